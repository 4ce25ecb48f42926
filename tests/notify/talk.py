"""Reading the mailboxes of a ticket's conversation: which notifications reached an address
(locmem mail, sent by the worker's task run at commit), their one-click links, and answering
one of them by mail as a mail client does."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage as Mail
from typing import Any

from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command

from opsdesk.notify.models import Delivery

# A Tuesday morning in Shanghai: 02:00 in London.
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
Step = Callable[..., Any]


def mailbox(address: str) -> list[tuple[str, EmailMessage]]:
    """What reached ``address``, oldest first, each with the kind of notification it was."""
    kinds_by_id = dict(Delivery.objects.values_list("pk", "notification_kind"))
    found = []
    for message in mail.outbox:
        if message.to == [address]:
            match = re.search(r"<notify\.(\d+)@", message.extra_headers["Message-ID"])
            assert match is not None
            found.append((kinds_by_id[int(match[1])], message))
    return found


def kinds(address: str) -> list[str]:
    return [kind for kind, _message in mailbox(address)]


def only(address: str, kind: str, index: int = 0) -> EmailMessage:
    return [m for k, m in mailbox(address) if k == kind][index]


def links_in(message: EmailMessage) -> dict[str, str]:
    """The one-click answers in a mail, as paths."""
    found = re.findall(r"https?://[^/\s]+(/verify/[^/\s]+/)", message.body)
    assert len(found) == 2, message.body
    return {"confirm": found[0], "not_fixed": found[1]}


def reply_by_mail(step: Step, *, sender: str, to: EmailMessage, text: str) -> None:
    """Answer a notification from a mail client (In-Reply-To it), through ``opsdesk mailgate``."""
    reply = Mail()
    reply["From"] = sender
    reply["To"] = "helpdesk@corp.example"
    reply["Subject"] = "回复: " + to.subject
    reply["Message-ID"] = f"<reply-{len(mail.outbox)}@corp.example>"
    reply["In-Reply-To"] = to.extra_headers["Message-ID"]
    reply.set_content(f"{text}\n\n在 2026-12-01 写道：\n> {to.body[:40]}")
    step(call_command, "mailgate", stdin=io.BytesIO(reply.as_bytes()), stdout=io.StringIO())
