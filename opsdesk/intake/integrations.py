"""Integrations and their secrets: each sender is an integration with its own secret (only its
digest is stored; the secret is shown once), which can be rotated or the integration disabled,
and every intake request is authenticated here before its payload is stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from opsdesk.intake.errors import BadSecret, IntegrationDisabled
from opsdesk.intake.models import Integration, IntegrationKind
from opsdesk.tickets.errors import NotFound

log = logging.getLogger(__name__)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_integration(*, name: str, kind: str, options: dict[str, Any] | None = None,
                       enabled: bool = True) -> tuple[Integration, str]:
    """A new integration and its secret, returned once (only its digest is stored)."""
    raw = "whk_" + secrets.token_urlsafe(32)
    integration = Integration.objects.create(
        name=name, kind=kind, options=options or {}, enabled=enabled, secret_prefix=raw[:10],
        secret_digest=_digest(raw),
    )
    return integration, raw


def rotate_secret(*, integration: Integration) -> str:
    """A new secret for ``integration`` (the old one stops working at once), returned once."""
    raw = "whk_" + secrets.token_urlsafe(32)
    integration.secret_prefix, integration.secret_digest = raw[:10], _digest(raw)
    integration.save(update_fields=["secret_prefix", "secret_digest"])
    return raw


def authenticate(*, kind: str, presented: str | None, remote_addr: str) -> Integration:
    """The enabled integration of ``kind`` whose secret was presented; BadSecret or
    IntegrationDisabled otherwise. A refusal is logged with the caller's address and the
    integration, never with what was presented."""
    integration = (
        Integration.objects.filter(kind=kind, secret_digest=_digest(presented)).first()
        if presented else None
    )
    if integration is None:
        log.warning("intake %s: refused a request from %s with a wrong or missing secret",
                    kind, remote_addr)
        raise BadSecret(_("Wrong or missing integration secret."))
    if not integration.enabled:
        log.warning("intake %s: refused a request from %s for the disabled integration %s",
                    kind, remote_addr, integration.name)
        raise IntegrationDisabled(
            _("The integration %s is disabled; an administrator can enable it again.")
            % integration.name
        )
    return integration


def signing_key(integration: Integration) -> str:
    """The key a webhook source signs its bodies with (HMAC-SHA256). Derived from the
    integration's secret digest and opsdesk's secret key, so that the database alone does not
    reveal it; it changes when the secret is rotated."""
    derived = hmac.new(settings.SECRET_KEY.encode(),
                       b"opsdesk-webhook-signing:" + integration.secret_digest.encode(),
                       hashlib.sha256)
    return "whs_" + derived.hexdigest()


def _signature_matches(integration: Integration, body: bytes, presented: str) -> bool:
    """A hex or base64 HMAC-SHA256 of the body, with or without a "sha256=" prefix."""
    digest = hmac.new(signing_key(integration).encode(), body, hashlib.sha256).digest()
    presented = presented.strip().removeprefix("sha256=")
    return any(hmac.compare_digest(presented.encode(), expected.encode())
               for expected in (digest.hex(), base64.b64encode(digest).decode()))


def authenticate_webhook(*, slug: str, body: bytes, bearer: str | None,
                         headers: Mapping[str, str], remote_addr: str) -> Integration:
    """The enabled webhook integration named ``slug``, if the request carries its secret (or,
    when the integration has a ``signature_header``, a valid signature of the body). A refusal
    is logged with the caller's address, never with what was presented."""
    integration = Integration.objects.filter(kind=IntegrationKind.WEBHOOK, name=slug).first()
    if integration is None:
        raise NotFound(_("There is no webhook integration named %s.") % slug)
    options = integration.options if isinstance(integration.options, dict) else {}
    header = options.get("signature_header")
    if isinstance(header, str) and header:
        if not _signature_matches(integration, body, headers.get(header, "")):
            log.warning("intake webhook %s: refused a request from %s with a wrong or missing "
                        "signature", slug, remote_addr)
            raise BadSecret(_("Wrong or missing signature in the %s header.") % header)
    elif not bearer or not integration.secret_matches(bearer):
        log.warning("intake webhook %s: refused a request from %s with a wrong or missing "
                    "secret", slug, remote_addr)
        raise BadSecret(_("Wrong or missing integration secret."))
    if not integration.enabled:
        log.warning("intake webhook %s: refused a request from %s for the disabled "
                    "integration", slug, remote_addr)
        raise IntegrationDisabled(
            _("The integration %s is disabled; an administrator can enable it again.") % slug
        )
    return integration
