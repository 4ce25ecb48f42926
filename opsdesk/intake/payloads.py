"""Inbound payloads: each stored exactly as received and committed before it is used, then used
by its integration kind's receiver (``RECEIVERS``) in one transaction with its mark, and
replayable when it could not be used.

A sender waits for its answer: intake's transactions wait for a database lock at most
``OPSDESK_INTAKE_LOCK_WAIT_SECONDS`` (default 5), well inside a sender's timeout, and a
database out of reach is answered 503 (the API's handler), which Alertmanager and Zabbix retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils.translation import gettext as _

from opsdesk.errors import DomainError
from opsdesk.intake.alerts.receivers import receive_alertmanager, receive_zabbix
from opsdesk.intake.errors import NotReplayable, PayloadRejected
from opsdesk.intake.mail import services as mail
from opsdesk.intake.models import InboundMessage, InboundStatus, Integration, IntegrationKind
from opsdesk.intake.webhooks.reports import receive_webhook
from opsdesk.runtime.sqlite.base import lock_wait
from opsdesk.tickets.choices import Channel

# How an integration kind uses a decoded payload: it reads the payload (PayloadRejected for
# what it cannot use) before the write transaction begins, since on SQLite that transaction
# holds the database's one write lock, and returns the write, run inside it, that uses it.
Receiver = Callable[[Integration, Any, InboundMessage], Callable[[], dict[str, Any]]]
RECEIVERS: dict[str, Receiver] = {
    IntegrationKind.ALERTMANAGER: receive_alertmanager,
    IntegrationKind.ZABBIX: receive_zabbix,
    IntegrationKind.WEBHOOK: receive_webhook,
}
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


def process(*, message: InboundMessage) -> dict[str, Any]:
    """Use a stored payload. Its effects and its "processed" mark commit together, so a crash
    leaves it either wholly used or still "received". A payload that cannot be used is marked
    rejected with the reason (and the error re-raised for the HTTP answer); it stays for replay.
    A notification some of whose alerts were refused is marked partly rejected, their reasons
    in its result: a replay takes up only those. When the database is out of reach (a lock
    held too long, the server gone) nothing can be marked: the message stays "received", the
    error is answered 503, and the sender retries it."""
    message.attempts += 1
    earlier = message.result if message.status == InboundStatus.PARTLY_REJECTED else None
    try:
        use = _read(message)
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


def _read(message: InboundMessage) -> Callable[[], dict[str, Any]]:
    """The payload decoded and read by its kind's receiver; returns the write that uses it."""
    integration = message.integration
    if integration is None:
        raise PayloadRejected(_("The message has no integration."))
    try:
        payload = json.loads(bytes(message.body))
    except (ValueError, UnicodeDecodeError) as error:
        raise PayloadRejected(_("The payload is not valid JSON: %s") % error) from error
    return RECEIVERS[integration.kind](integration, payload, message)


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
