"""The dates and times intake takes from a sender: opsdesk's bounds (``opsdesk.bounds``: from
2000-01-01 up to, not including, 2100-01-01), and for a moment something happened (an alert's
start) not later than a day ahead of now, a sender's clock may run fast. Pure: no database.

A monitoring system never has a reason to report a fault outside them; such a value is a
sender's bug or a placeholder (Go's zero time, year 9999). Year 9999 with a negative offset
overflows on PostgreSQL and poisons every list that sorts by the column, and the tickets service
refuses what lies outside, so intake decides before it files anything.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from opsdesk.bounds import CLOCK_LEEWAY, EARLIEST, LATEST


def aware(moment: datetime) -> datetime:
    """``moment`` with its time zone; a sender's naive time is read as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def in_range(moment: datetime) -> bool:
    """Whether ``moment`` (naive: read as UTC) lies within opsdesk's bounds."""
    # Compared, never converted: converting year 9999 at -23:00 to UTC would overflow.
    return EARLIEST <= aware(moment) < LATEST


def happened(moment: datetime) -> bool:
    """Whether ``moment`` may be when something happened: within the bounds, not ahead."""
    return in_range(moment) and aware(moment) <= timezone.now() + CLOCK_LEEWAY
