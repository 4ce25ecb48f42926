"""Putting one delivery on the wire: email through Django's mail backend, chat robots through
apprise, and plain webhooks as a JSON POST of our own.

Every failure comes out as DeliveryFailed with a reason fit to store and show: whatever went
wrong (a refused connection, a robot's error answer, a bug in a library) is recorded on the
delivery rather than crashing the worker, and no reason ever contains the robot's URL.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from opsdesk.notify import conf, verification
from opsdesk.notify.choices import ChannelKind
from opsdesk.notify.endpoints import is_plain_webhook
from opsdesk.notify.messages import ticket_link
from opsdesk.notify.models import Delivery
from opsdesk.notify.redaction import redact, scrubbed_logs, secret_fragments


class DeliveryFailed(Exception):
    """The message did not go out; ``reason`` says why, without secrets."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # Retrying cannot help (the channel is gone, the address is invalid).
        self.final = final


def send(delivery: Delivery) -> None:
    """Send ``delivery`` once; raise DeliveryFailed if it did not go out."""
    if delivery.channel_kind == ChannelKind.EMAIL:
        _guarded(lambda: send_email(delivery), [])
        return
    if delivery.channel is None:
        raise DeliveryFailed("the channel was deleted", final=True)
    target = delivery.channel.target
    fragments = secret_fragments(target)
    with scrubbed_logs(fragments):
        if delivery.channel_kind == ChannelKind.WEBHOOK and is_plain_webhook(target):
            _guarded(lambda: post_webhook(delivery, target), fragments)
        else:
            _guarded(lambda: send_robot(delivery, target), fragments)


def _guarded(send_once: Callable[[], None], fragments: list[str]) -> None:
    try:
        send_once()
    except DeliveryFailed as failure:
        raise DeliveryFailed(redact(failure.reason, fragments), final=failure.final) from None
    except Exception as error:  # any library error must end as a recorded failure
        reason = redact(f"{type(error).__name__}: {error}", fragments)
        raise DeliveryFailed(reason) from None


def _message_id(delivery: Delivery) -> str:
    # Stable per delivery: a resend after a crash carries the same id, so mail clients that
    # already received it show it once.
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "opsdesk"
    return f"<notify.{delivery.pk}@{domain}>"


def send_email(delivery: Delivery) -> None:
    headers = {
        "Message-ID": _message_id(delivery),
        # RFC 3834: autoresponders must not answer; our own mail intake ignores it too.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if delivery.ticket is not None:
        # Mail clients thread every notification about one ticket together.
        domain = _message_id(delivery).rpartition("@")[2].rstrip(">")
        headers["References"] = f"<ticket.{delivery.ticket.key}@{domain}>"
    message = EmailMessage(
        subject=delivery.subject, body=verification.fill(delivery, delivery.body),
        to=[delivery.address], headers=headers,
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT or conf.timeout_seconds()),
    )
    message.send()


def send_robot(delivery: Delivery, target: str) -> None:
    import apprise  # here, not at the top: ~8 MB that web workers never need

    asset = apprise.AppriseAsset(
        app_id="opsdesk", app_desc="opsdesk", app_url=conf.base_url(), storage_mode="memory",
    )
    sender = apprise.Apprise(asset=asset)
    if not sender.add(target):
        raise DeliveryFailed("the robot URL is not valid", final=True)
    result = sender.notify(body=verification.fill(delivery, delivery.body),
                           title=delivery.subject)
    if not result:
        reasons = [entry.message for entry in result.logs()] or [f"apprise: {result.status!r}"]
        raise DeliveryFailed("; ".join(reasons))


def webhook_document(delivery: Delivery) -> dict[str, object]:
    """What a plain webhook receives; ``id`` lets the receiver drop a retried duplicate."""
    ticket = delivery.ticket
    return {
        "id": delivery.dedupe_key,
        "kind": delivery.notification_kind,
        "language": delivery.language,
        "subject": delivery.subject,
        "body": verification.fill(delivery, delivery.body),
        "ticket": None if ticket is None else {
            "key": ticket.key, "title": ticket.title, "priority": ticket.priority_code,
            "status": ticket.status, "url": ticket_link(ticket),
        },
    }


def post_webhook(delivery: Delivery, target: str) -> None:
    request = urllib.request.Request(
        target, method="POST",
        data=json.dumps(webhook_document(delivery), ensure_ascii=False).encode(),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "opsdesk",
            "Idempotency-Key": delivery.dedupe_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=conf.timeout_seconds()) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"the webhook answered HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DeliveryFailed(f"the webhook could not be reached: {error.reason}") from None
