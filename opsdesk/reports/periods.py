"""The spans the figures cover, in the reader's time zone: the dashboard's last N whole days,
today included, and the review's last N calendar months, this month included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property

from django.utils import timezone

RANGES = (7, 30, 90)  # the spans the dashboard offers, in days
MONTH_RANGES = (3, 6, 12)  # the spans the review offers, in months


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

    @property
    def last_date(self) -> date:
        return self.dates[-1]

    @cached_property
    def midnight_seconds(self) -> list[int]:
        """Seconds from the start to the midnight starting each day, and to the end."""
        # In UTC: Python subtracts two times of one zone by wall clock, blind to DST shifts.
        start = self.start.astimezone(UTC)
        midnights = [_midnight(day, self.zone) for day in self.dates] + [self.end]
        return [int((m.astimezone(UTC) - start).total_seconds()) for m in midnights]


@dataclass(frozen=True)
class MonthPeriod:
    months: int
    zone: tzinfo
    # Midnight starting each month, in ``zone``, then the midnight starting the next month.
    bounds: tuple[datetime, ...]

    @classmethod
    def last(cls, months: int, *, now: datetime | None = None,
             zone: tzinfo | None = None) -> MonthPeriod:
        """The last ``months`` calendar months up to this one (in the active time zone unless
        ``zone``)."""
        zone = zone or timezone.get_current_timezone()
        this_month = (now or timezone.now()).astimezone(zone).date().replace(day=1)
        first = _add_months(this_month, 1 - months)
        return cls(months, zone, tuple(_midnight(_add_months(first, i), zone)
                                       for i in range(months + 1)))

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]

    @property
    def firsts(self) -> list[date]:
        """The first day of each month."""
        return [bound.date() for bound in self.bounds[:-1]]

    @property
    def last_date(self) -> date:
        return self.end.date() - timedelta(days=1)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def _add_months(first: date, months: int) -> date:
    years, month = divmod(first.month - 1 + months, 12)
    return date(first.year + years, month + 1, 1)
