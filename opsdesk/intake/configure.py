"""Integrations as the administration page keeps them: added (the secret made by
``integrations.create_integration`` and returned once), changed, given a new secret, each checked
first in the reader's words and put on record. Only the secret's digest is ever stored."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opsdesk.accounts import audit
from opsdesk.accounts.models import User
from opsdesk.intake import integrations
from opsdesk.intake.models import Integration, IntegrationKind

NOT_TYPED = ["secret_digest", "secret_prefix"]


def endpoint(integration: Integration) -> str:
    """The path the sender posts to."""
    if integration.kind == IntegrationKind.WEBHOOK:
        return f"/api/v1/intake/webhook/{integration.name}"
    return f"/api/v1/intake/{integration.kind}"


def signing_key(integration: Integration) -> str | None:
    """The key a generic webhook signs its bodies with, if its options ask for signatures."""
    options = integration.options if isinstance(integration.options, dict) else {}
    if integration.kind == IntegrationKind.WEBHOOK and options.get("signature_header"):
        return integrations.signing_key(integration)
    return None


@transaction.atomic
def add_integration(*, by: User, name: str, kind: str, options: dict[str, Any],
                    enabled: bool = True) -> tuple[Integration, str]:
    """A new integration and its secret (to be shown once, never again)."""
    Integration(name=name, kind=kind, options=options, enabled=enabled).full_clean(
        exclude=NOT_TYPED)
    integration, secret = integrations.create_integration(
        name=name, kind=kind, options=options, enabled=enabled)
    audit.added(by=by, obj=integration)
    return integration, secret


@transaction.atomic
def change_integration(*, by: User, integration: Integration, options: dict[str, Any],
                       enabled: bool) -> Integration:
    """Change what ``integration`` does with what it receives, or switch it off."""
    changed = [name for name, value in (("options", options), ("enabled", enabled))
               if getattr(integration, name) != value]
    integration.options, integration.enabled = options, enabled
    integration.full_clean(exclude=NOT_TYPED)
    if changed:
        integration.save(update_fields=changed)
        audit.changed(by=by, obj=integration, fields=changed)
    return integration


@transaction.atomic
def new_secret(*, by: User, integration: Integration) -> str:
    """A new secret (the old one stops working at once), to be shown once."""
    secret = integrations.rotate_secret(integration=integration)
    audit.changed(by=by, obj=integration, fields=["secret_prefix"])
    return secret
