"""Every write of intake: integrations and their secrets, raw payloads stored before use, used
(alerts by ``alerts``, Zabbix and webhooks by ``receivers``, mail by ``mail``) and replayed.

A sender waits for its answer: intake's transactions wait for a database lock at most
``OPSDESK_INTAKE_LOCK_WAIT_SECONDS`` (default 5), well inside a sender's timeout, and a
database out of reach is answered 503 (the API's handler), which Alertmanager and Zabbix retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils.translation import gettext as _

from opsdesk.intake import alertmanager, alerts
from opsdesk.intake.errors import BadSecret, IntegrationDisabled, NotReplayable, PayloadRejected
from opsdesk.intake.mail import services as mail
from opsdesk.intake.models import InboundMessage, InboundStatus, Integration
from opsdesk.runtime.sqlite.base import lock_wait
from opsdesk.tickets.choices import Channel
from opsdesk.tickets.errors import DomainError

log = logging.getLogger(__name__)

# What a result adds up when a replay takes up the refused alerts of a notification.
ADDED_UP = ("created", "repeated", "resolved", "closed", "ignored", "notes")


def lock_wait_seconds() -> float:
    """The longest a sender's request waits for a database lock: Alertmanager's deadline is
    its route's group_interval (10 s at least), and a 503 well before it is retried."""
    return float(settings.OPSDESK_INTAKE_LOCK_WAIT_SECONDS)


@contextmanager
def bounded_transaction() -> Iterator[None]:
    """A transaction of intake that waits for a lock at most ``lock_wait_seconds()`` and then
    fails with OperationalError (answered 503): SQLite's write lock (``BEGIN IMMEDIATE``), and
    on PostgreSQL any row lock (``lock_timeout``) or statement (``statement_timeout``)."""
    seconds = lock_wait_seconds()
    with lock_wait(seconds), transaction.atomic():
        if connection.vendor == "postgresql":
            limit = f"{int(seconds * 1000)}ms"
            with connection.cursor() as cursor:  # for this transaction only
                cursor.execute("SELECT set_config('lock_timeout', %s, true), "
                               "set_config('statement_timeout', %s, true)", [limit, limit])
        yield


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


def store_inbound(*, integration: Integration | None, channel: str, body: bytes,
                  content_type: str = "", remote_addr: str = "",
                  headers: dict[str, str] | None = None) -> InboundMessage:
    """Keep the payload exactly as received, committed before anything else happens, with the
    request headers its use depends on (an idempotency key; never a secret)."""
    with bounded_transaction():
        return InboundMessage.objects.create(
            integration=integration, channel=channel, body=body,
            content_type=content_type[:100], remote_addr=remote_addr[:64], headers=headers or {},
        )


# How a decoded payload of an integration is used: (integration, payload, message) → result.
Receiver = Callable[[Integration, Any, InboundMessage], dict[str, Any]]
# Kinds other than Alertmanager, registered by IntakeConfig.ready().
RECEIVERS: dict[str, Receiver] = {}


def process(*, message: InboundMessage) -> dict[str, Any]:
    """Use a stored payload. Its effects and its "processed" mark commit together, so a crash
    leaves it either wholly used or still "received". A payload that cannot be used is marked
    rejected with the reason (and the error re-raised for the HTTP answer); it stays for replay.
    A notification some of whose alerts were refused is marked partly rejected, their reasons
    in its result: a replay takes up only those. When the database is out of reach (a lock
    held too long, the server gone) nothing can be marked: the message stays "received", the
    error is answered 503, and the sender retries it.
    The payload is decoded before the write transaction begins: on SQLite that transaction
    holds the database's one write lock, which the other server workers wait for."""
    message.attempts += 1
    earlier = message.result if message.status == InboundStatus.PARTLY_REJECTED else None
    try:
        use = _decode(message)
        with bounded_transaction():
            result = _merged(earlier, use()) if earlier is not None else use()
            refused = result.get("refused") or []
            if refused:
                message.finish(InboundStatus.PARTLY_REJECTED, result=result,
                               error=" ".join(r["reason"] for r in refused))
            else:
                message.finish(InboundStatus.PROCESSED, result=result)
    except DomainError as error:
        with bounded_transaction():  # a partly rejected one keeps what its alerts did
            message.finish(InboundStatus.REJECTED if earlier is None
                           else InboundStatus.PARTLY_REJECTED,
                           error=error.message, result=earlier)
        raise
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        with bounded_transaction():
            message.finish(InboundStatus.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    return result


def _merged(earlier: dict[str, Any], latest: dict[str, Any]) -> dict[str, Any]:
    """The result of a notification whose refused alerts a replay took up: what each attempt
    did, added up; what is still refused."""
    merged = {**earlier, **latest}
    for name in ADDED_UP:
        if name in earlier:
            merged[name] = earlier[name] + latest.get(name, type(earlier[name])())
    return merged


def _decode(message: InboundMessage) -> Callable[[], dict[str, Any]]:
    """The payload read and checked; returns what uses it (inside the write transaction)."""
    integration = message.integration
    if integration is None:
        raise PayloadRejected(_("The message has no integration."))
    try:
        payload = json.loads(bytes(message.body))
    except (ValueError, UnicodeDecodeError) as error:
        raise PayloadRejected(_("The payload is not valid JSON: %s") % error) from error
    receiver = RECEIVERS.get(integration.kind)
    if receiver is not None:
        return lambda: receiver(integration, payload, message)
    only = None
    if message.status == InboundStatus.PARTLY_REJECTED:
        only = frozenset(r["index"] for r in message.result.get("refused", []))
    notification = alertmanager.parse(payload, integration.options, only=only)
    return lambda: alerts.receive_notification(integration=integration,
                                               notification=notification)


def replay(*, message_id: int) -> dict[str, Any]:
    """Process a stored message again (after fixing the integration or the code). Only a
    message not yet used may be replayed: a processed one already counted its alerts. Two
    admins replaying the same message at once process it once."""
    with transaction.atomic():
        message = (InboundMessage.objects.select_for_update(of=("self",))
                   .select_related("integration").filter(pk=message_id).first())
        if message is None:
            raise NotReplayable(_("There is no message #%s.") % message_id)
        if message.status == InboundStatus.PROCESSED:
            raise NotReplayable(_("Message #%s was already processed.") % message.pk)
        try:
            if message.channel == Channel.EMAIL:
                return mail.process_message(message=message)
            return process(message=message)
        except Exception as error:  # its mark (rejected, failed) commits with this block
            failure = error
    raise failure
