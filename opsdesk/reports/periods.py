"""The span a dashboard covers: the last N whole days in the reader's time zone, today included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property

from django.utils import timezone

RANGES = (7, 30, 90)  # the spans the dashboard offers, in days


@dataclass(frozen=True)
class Period:
    days: int
    zone: tzinfo
    start: datetime  # midnight starting the first day, in ``zone``
    end: datetime  # midnight after today, in ``zone``

    @classmethod
    def last(cls, days: int, *, now: datetime | None = None, zone: tzinfo | None = None) -> Period:
        """The last ``days`` days up to today (in the active time zone unless ``zone``)."""
        zone = zone or timezone.get_current_timezone()
        today = (now or timezone.now()).astimezone(zone).date()
        return cls(days, zone, _midnight(today - timedelta(days=days - 1), zone),
                   _midnight(today + timedelta(days=1), zone))

    @property
    def dates(self) -> list[date]:
        first = self.start.date()
        return [first + timedelta(days=i) for i in range(self.days)]

    @cached_property
    def midnight_seconds(self) -> list[int]:
        """Seconds from the start to the midnight starting each day, and to the end."""
        # In UTC: Python subtracts two times of one zone by wall clock, blind to DST shifts.
        start = self.start.astimezone(UTC)
        midnights = [_midnight(day, self.zone) for day in self.dates] + [self.end]
        return [int((m.astimezone(UTC) - start).total_seconds()) for m in midnights]


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)
