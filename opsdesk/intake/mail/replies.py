"""Which ticket a mail answers: the ticket key at the start of its subject (after any Re:,
回复:, 转发: … prefixes), or a message it refers to (In-Reply-To, References): one of opsdesk's
notifications about a ticket, or a mail that opened or commented on one."""

from __future__ import annotations

import re

from django.conf import settings

from opsdesk.intake.mail.models import MailMessage
from opsdesk.notify.models import Delivery

REPLY_PREFIXES = (r"re|fw|fwd|aw|wg|sv|antw|tr|回复|答复|转发|回覆|答覆|轉寄|轉發|回復")
PREFIX_RUN = re.compile(rf"^\s*(?:(?:{REPLY_PREFIXES})\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
                        re.IGNORECASE)
# opsdesk's own notifications: <notify.<delivery>@domain>, References <ticket.<key>@domain>.
NOTIFICATION_ID = re.compile(r"^<notify\.(\d{1,18})@")


def _key_pattern() -> re.Pattern[str]:
    prefix = re.escape(settings.OPSDESK_TICKET_KEY_PREFIX)
    return re.compile(rf"^[\[【(（]?\s*{prefix}-(\d{{1,18}})\b", re.IGNORECASE)


def strip_prefixes(subject: str) -> str:
    """The subject without its reply and forward prefixes."""
    return PREFIX_RUN.sub("", subject)


def ticket_number_in_subject(subject: str) -> int | None:
    match = _key_pattern().match(strip_prefixes(subject))
    return int(match.group(1)) if match else None


def ticket_number_in_references(references: list[str]) -> int | None:
    """The ticket the newest recognised reference belongs to."""
    if not references:
        return None
    own_thread = re.compile(
        rf"^<ticket\.{re.escape(settings.OPSDESK_TICKET_KEY_PREFIX)}-(\d{{1,18}})@", re.IGNORECASE
    )
    for reference in references:
        if match := own_thread.match(reference):
            return int(match.group(1))
        if match := NOTIFICATION_ID.match(reference):
            ticket_id = (Delivery.objects.filter(pk=int(match.group(1)))
                         .values_list("ticket_id", flat=True).first())
            if ticket_id is not None:
                return ticket_id
    known = dict(MailMessage.objects.filter(message_id__in=references[:50], ticket__isnull=False)
                 .values_list("message_id", "ticket_id"))
    for reference in references:
        if reference in known:
            return known[reference]
    return None


def answered_ticket_number(subject: str, references: list[str]) -> int | None:
    """The number of the ticket a mail answers, or None for a new problem."""
    return ticket_number_in_subject(subject) or ticket_number_in_references(references)


# Where mail clients start the quoted message under a reply (Outlook, Foxmail, QQ Mail,
# NetEase, Apple Mail, Gmail, in Chinese and English).
QUOTE_STARTS = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|原始邮件|原始郵件|forwarded message|转发的邮件)\s*-{2,}"
    r"|_{10,}\s*$"
    r"|on .{4,200} wrote:\s*$"
    r"|在 .{4,200}写道[:：]\s*$"
    r"|(?:from|发件人|寄件者)\s*[:：].{0,200}$"
    r")",
    re.IGNORECASE,
)


def reply_text(text: str) -> str:
    """What a reply adds: the text above the quoted message it answers (all of ``text`` if
    nothing above the quote remains)."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if QUOTE_STARTS.match(line) or line.startswith(">"):
            above = "\n".join(lines[:number]).strip()
            return above or text.strip()
    return text.strip()
