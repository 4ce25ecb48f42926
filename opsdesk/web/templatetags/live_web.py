"""The live parts of pages: the marker an open ticket page polls with, and the count of
unread notifications in the navigation (web/views/live.py and notifications.py answer them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from opsdesk.notify import selectors as notify_selectors
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import change_mark
from opsdesk.web.timeline import Entry
from opsdesk.web.views.live import live_seconds

register = template.Library()


@register.inclusion_tag("web/parts/ticket_live.html")
def ticket_live(ticket: Ticket, entries: Sequence[Entry]) -> dict[str, Any]:
    """The marker of the page as shown: made of what it shows (its newest event), so a change
    made while the page was being read is never taken as already seen."""
    latest = max((e.event.pk for e in entries), default=0)
    return {"key": ticket.key, "live_seconds": live_seconds(), "mark": change_mark(
        version=ticket.version, dispatched=ticket.dispatched, latest_event_id=latest)}


@register.inclusion_tag("web/parts/unread_badge.html", takes_context=True)
def unread_badge(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {"count": notify_selectors.unread_count(user=user), "live_seconds": live_seconds()}
