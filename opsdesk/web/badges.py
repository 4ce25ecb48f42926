"""How a ticket's SLA reads at a glance: a state with its colour, the time left or overdue.

The page's script keeps the countdown running from ``due`` between renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk.sla import clocks
from opsdesk.sla.models import Clock
from opsdesk.tickets.models import Ticket

STATE_LABELS = {
    "on_track": gettext_lazy("On track"),
    "at_risk": gettext_lazy("At risk"),
    "breached": gettext_lazy("Breached"),
    "paused": gettext_lazy("Paused"),
    "met": gettext_lazy("Met"),
}


@dataclass(frozen=True)
class SlaBadge:
    state: str
    label: str
    due: datetime | None
    remaining: str


def duration(seconds: int) -> str:
    """``1 d 2 h``, ``2 h 05 m``, ``12 m`` in the active language's units."""
    minutes = abs(seconds) // 60
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)02d m") % {"h": hours, "m": mins}
    return _("%(m)s m") % {"m": mins}


def sla_badge(ticket: Ticket, now: datetime) -> SlaBadge | None:
    clock: Clock | None = getattr(ticket, "sla_clock", None)
    state = clocks.state(clock, now)
    if clock is None or state not in STATE_LABELS:
        return None
    due = clock.breach_at
    remaining = ""
    if due is not None:
        seconds = int((due - now).total_seconds())
        remaining = (_("%s left") if seconds >= 0 else _("%s overdue")) % duration(seconds)
    return SlaBadge(state=state, label=str(STATE_LABELS[state]), due=due, remaining=remaining)
