"""The ticket page's part about the conversation: following the ticket, and the messages the
viewer was sent about it (so what went by mail is on the portal too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from opsdesk.notify import selectors, verification
from opsdesk.notify.choices import DEFAULT_WATCH_TOPICS, WatchTopic
from opsdesk.tickets.models import Ticket

register = template.Library()


@dataclass(frozen=True)
class Sent:
    subject: str
    text: str
    created_at: datetime
    next_attempt_at: datetime | None
    held: bool
    # The language it was sent in: a record of what went out, marked as such (lang) when the
    # reader has changed language since, never translated after the fact.
    language: str


@register.inclusion_tag("web/parts/conversation.html", takes_context=True)
def conversation(context: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    user = context["request"].user
    watch = selectors.watch_of(user=user, ticket=ticket)
    now = timezone.now()
    sent = [
        Sent(row.subject, verification.without_links(row.body), row.created_at,
             row.next_attempt_at, row.sent_at is None and row.next_attempt_at is not None
             and row.next_attempt_at > now, row.language)
        for row in selectors.messages_to(user=user, ticket=ticket)
    ]
    return {
        "ticket": ticket, "topics": WatchTopic.choices, "watching": watch is not None,
        "chosen": watch.topics if watch else list(DEFAULT_WATCH_TOPICS), "sent": sent,
        "csrf_token": context.get("csrf_token"),
    }
