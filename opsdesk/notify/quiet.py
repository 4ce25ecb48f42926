"""Quiet hours: when a person's messages that are not urgent wait, and until when.

A person sets a start and an end on their own wall clock (22:00–07:00 spans midnight); a
message created inside that window waits for its end. Urgent messages go through at any hour:
those about urgent or high tickets (the procedure's 15-minute response) and emergencies.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from django.utils import timezone

from opsdesk.notify.choices import NotificationKind
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.models import Ticket

ALWAYS_URGENT = frozenset({NotificationKind.EMERGENCY})


def is_urgent(kind: str, ticket: Ticket | None) -> bool:
    """Whether a message goes through quiet hours."""
    if kind in ALWAYS_URGENT:
        return True
    return ticket is not None and ticket.priority <= Priority.HIGH


def quiet_until(*, start: time, end: time, zone: tzinfo, now: datetime) -> datetime | None:
    """The end of the quiet period ``now`` falls in (the start included, the end not), or None
    when ``now`` is outside it."""
    local = timezone.localtime(now, zone)
    moment = local.time().replace(tzinfo=None)
    if start < end:  # within one day: 12:00–13:30
        inside, ends_tomorrow = start <= moment < end, False
    else:  # across midnight: 22:00–07:00
        inside, ends_tomorrow = moment >= start or moment < end, moment >= start
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if ends_tomorrow else 0)
    return datetime.combine(day, end, tzinfo=zone)
