"""Five-field cron expressions ("minute hour day-of-month month day-of-week"), evaluated on a
time zone's wall clock. Pure: no database, no Django.

Supported: ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, lists ``a,b``, month
and weekday names (``JAN``, ``MON``), and 7 for Sunday. As in Vixie cron, when both the day of
the month and the day of the week are restricted, a day matching either is a match. A wall
time that does not exist (a daylight-saving gap) is skipped; one that happens twice (a fold)
runs once, at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# Far enough for the rarest day an expression can name: 29 February, at most 8 years apart
# (2096 to 2104, as 2100 is not a leap year).
SEARCH_YEARS = 9


class CronError(ValueError):
    """An expression that is not a valid five-field cron expression (the message says why)."""


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0


_SPECS = (
    _FieldSpec("minute", 0, 59),
    _FieldSpec("hour", 0, 23),
    _FieldSpec("day of month", 1, 31),
    _FieldSpec("month", 1, 12, MONTHS, 1),
    _FieldSpec("day of week", 0, 7, WEEKDAYS, 0),
)


def _value(spec: _FieldSpec, text: str) -> int:
    upper = text.upper()
    if upper in spec.names:
        return spec.names.index(upper) + spec.names_start
    if not (text.isascii() and text.isdigit()):
        raise CronError(f"{spec.name}: {text!r} is not a number")
    number = int(text)
    if not spec.low <= number <= spec.high:
        raise CronError(f"{spec.name}: {number} is outside {spec.low}-{spec.high}")
    return number


def _parse_part(spec: _FieldSpec, part: str) -> set[int]:
    base, _slash, step_text = part.partition("/")
    step = 1
    if _slash:
        if not (step_text.isascii() and step_text.isdigit()) or int(step_text) == 0:
            raise CronError(f"{spec.name}: {step_text!r} is not a valid step")
        step = int(step_text)
    if base == "*":
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _dash, last = base.partition("-")
        low, high = _value(spec, first), _value(spec, last)
        if low > high:
            raise CronError(f"{spec.name}: the range {base!r} runs backwards")
    else:
        low = _value(spec, base)
        high = spec.high if _slash else low
    return set(range(low, high + 1, step))


def _parse_field(spec: _FieldSpec, text: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{spec.name}: empty list entry in {text!r}")
        values |= _parse_part(spec, part)
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        on_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or on_weekday
        return in_month and on_weekday

    def next_after(self, moment: datetime, zone: tzinfo) -> datetime:
        """The first moment strictly after ``moment`` (aware) that the schedule names, in UTC.
        Raises CronError if it names no moment at all (the 31st of February)."""
        local = moment.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
        day = local.date()
        for _ in range(366 * SEARCH_YEARS):
            if self.matches_day(day):
                found = self._first_time_on(day, moment, zone)
                if found is not None:
                    return found
            day += timedelta(days=1)
        raise CronError("the expression never matches")

    def _first_time_on(self, day: date, after: datetime, zone: tzinfo) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                aware = datetime.combine(day, time(hour, minute), tzinfo=zone)
                if _exists(aware, zone) and aware > after:
                    return aware.astimezone(UTC)
        return None


def _exists(aware: datetime, zone: tzinfo) -> bool:
    """False for a wall time inside a daylight-saving gap (it does not survive a round trip)."""
    back = aware.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == aware.replace(tzinfo=None)


def parse(expression: str) -> CronSchedule:
    """Parse a five-field cron expression or raise CronError naming the problem."""
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minutes, hours, days, months, weekdays = (
        _parse_field(spec, text) for spec, text in zip(_SPECS, fields, strict=True)
    )
    if 7 in weekdays:
        weekdays = (weekdays - {7}) | {0}
    schedule = CronSchedule(
        minutes=minutes, hours=hours, days=days, months=months, weekdays=weekdays,
        days_restricted=not fields[2].startswith("*"),
        weekdays_restricted=not fields[4].startswith("*"),
    )
    # 2024 is a leap year: a day of the month that exists in no month of it never comes.
    if not schedule.weekdays_restricted and not any(
        _valid_day(2024, m, d) for m in months for d in days
    ):
        raise CronError("the expression never matches")
    return schedule


def _valid_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
