"""Business-time arithmetic: which days are worked, and deadlines counted in working hours only.

Pure Python, independent of the ORM (``selectors.get_work_calendar`` builds one from the
``BusinessCalendar`` model). Business time is measured in real elapsed time inside the working
windows of working days, so a DST change inside working hours counts what the clock really ran.
Working days are a second measure: each working day counts one day (``timedelta(days=1)``)
whatever its hours, a part of it by the share of its working time that has run.
"""

from __future__ import annotations

import functools
import itertools
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

ZERO = timedelta(0)
MICROSECOND = timedelta(microseconds=1)
ONE_DAY = timedelta(days=1)
DAY_US = ONE_DAY // MICROSECOND
SHANGHAI = ZoneInfo("Asia/Shanghai")

Span = tuple[datetime, datetime]  # a working window of one day, as UTC instants [start, end)


# --- Which days are worked -----------------------------------------------------------------


def _dates_of(year: int) -> list[date]:
    first = date(year, 1, 1).toordinal()
    return [date.fromordinal(o) for o in range(first, date(year, 12, 31).toordinal() + 1)]


@functools.cache
def official_schedule_known(year: int) -> bool:
    """Whether chinese-calendar has the State Council's schedule (holidays and 调休) for
    ``year``; it raises for any year it was released without."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def last_official_year(today: date) -> int | None:
    """The last year whose official schedule is known, counting on from ``today``'s year; None
    if that year is already unknown. Asked of the library, so a new release moves it."""
    if not official_schedule_known(today.year):
        return None
    return next(y for y in itertools.count(today.year) if not official_schedule_known(y + 1))


@functools.cache
def statutory_working_days(year: int) -> bytes:
    """One flag per day of ``year`` (1 = worked) under Chinese statutory rules.

    chinese-calendar when it knows the year (it has the make-up working days); otherwise the
    holidays computed by ``holidays.China`` plus weekends, with no 调休 unless that library
    lists some. Never raises: beyond every library's range only weekends are rest days.
    """
    days = _dates_of(year)
    if official_schedule_known(year):
        worked = set(chinese_calendar.get_workdays(days[0], days[-1]))
        return bytes(d in worked for d in days)
    # Imported only for this fallback: the library loads every country's rules (8 MB in
    # each server process), and chinese-calendar covers the years a desk works in.
    import holidays

    computed = holidays.China(years=year)
    rest, made_up = set(computed), set(getattr(computed, "weekend_workdays", ()))
    return bytes((d.weekday() < 5 and d not in rest) or d in made_up for d in days)


@dataclass(frozen=True)
class DayClassifier:
    """Working days: admin overrides first, then (if used) Chinese statutory holidays and 调休,
    else Monday to Friday."""

    use_statutory_holidays: bool = True
    extra_holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if both := self.extra_holidays & self.extra_working_days:
            raise ValueError(f"dates both extra holiday and extra working day: {sorted(both)}")

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        if self.use_statutory_holidays:
            return bool(statutory_working_days(day.year)[day.timetuple().tm_yday - 1])
        return day.weekday() < 5

    def year_flags(self, year: int) -> bytes:
        """One flag per day of ``year`` (1 = worked)."""
        if self.use_statutory_holidays:
            flags = bytearray(statutory_working_days(year))
        else:
            flags = bytearray(d.weekday() < 5 for d in _dates_of(year))
        for day in self.extra_holidays | self.extra_working_days:
            if day.year == year:
                flags[day.timetuple().tm_yday - 1] = day in self.extra_working_days
        return bytes(flags)


# --- Working hours -------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingTime:
    """Working hours of a day in a time zone, with an optional lunch break; or 24x7."""

    tz: ZoneInfo = SHANGHAI
    day_start: time = time(9)
    day_end: time = time(18)
    lunch_start: time | None = None
    lunch_end: time | None = None
    is_24x7: bool = False

    def __post_init__(self) -> None:
        times = [self.day_start, self.day_end, self.lunch_start, self.lunch_end]
        if any(t is not None and t.tzinfo is not None for t in times):
            raise ValueError("working hours are wall-clock times: give the zone as tz")
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValueError("a lunch break needs both a start and an end")
        in_order = [self.day_start, self.lunch_start, self.lunch_end, self.day_end]
        bounds = [t for t in in_order if t is not None]
        if bounds != sorted(set(bounds)):
            raise ValueError("expected day start < lunch start < lunch end < day end")

    @property
    def windows(self) -> tuple[tuple[time, time], ...]:
        """The working windows of a working day, in wall-clock time."""
        if self.lunch_start is None or self.lunch_end is None:
            return ((self.day_start, self.day_end),)
        return ((self.day_start, self.lunch_start), (self.lunch_end, self.day_end))

    @property
    def day_length(self) -> timedelta:
        """Business time in an ordinary working day (what "one business day" means)."""
        if self.is_24x7:
            return timedelta(days=1)
        lengths = (_since_midnight(end) - _since_midnight(start) for start, end in self.windows)
        return sum(lengths, ZERO)


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


# --- Business time -------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    """A year of one calendar: each day's working spans, the business time and the working days
    before each day, so whole days, weeks and holidays are skipped with a bisection, not
    stepped through."""

    first_ordinal: int
    spans: tuple[tuple[Span, ...], ...]
    before: list[timedelta]  # before[i]: business time in the year's days [0, i); len = days + 1
    working: list[int]  # the indexes of the days with working time, in order

    @property
    def total(self) -> timedelta:
        return self.before[-1]

    @property
    def working_days(self) -> int:
        return len(self.working)

    def length(self, index: int) -> timedelta:
        return self.before[index + 1] - self.before[index]


@dataclass(frozen=True)
class WorkCalendar:
    """Deadlines and elapsed time counted in business time: working windows of working days.

    Every datetime given must be timezone-aware; every datetime returned is in ``hours.tz``.
    Year tables are built on first use and kept; build one through ``work_calendar`` so that
    calendars with the same rules share them.
    """

    hours: WorkingTime = WorkingTime()
    days: DayClassifier = DayClassifier()
    _years: dict[int, _YearTable] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def is_working_day(self, day: date) -> bool:
        return self.hours.is_24x7 or self.days.is_working_day(day)

    def next_business_moment(self, t: datetime) -> datetime:
        """``t`` if the clock runs at ``t``, else the start of the next working window."""
        instant = _utc(t)
        if self.hours.is_24x7:
            return instant.astimezone(self.hours.tz)
        return self._instant(*self._position(instant), resume=True)

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest moment by which ``duration`` of business time has run since ``start``.

        A start outside working hours counts from the next business moment; a duration that
        ends exactly at a window's end gives that end (18:00), not the next morning.
        """
        if duration < ZERO:
            raise ValueError("a business duration cannot be negative")
        instant = _utc(start)
        if self.hours.is_24x7:
            # In UTC: adding to a zoned datetime would add wall-clock time across a DST change.
            return (instant + duration).astimezone(self.hours.tz)
        if not duration:
            return self.next_business_moment(instant)
        year, position = self._position(instant)
        return self._instant(year, position + duration, resume=False)

    def add_business_times(self, start: datetime, durations: list[timedelta]) -> list[datetime]:
        """``add_business_time`` for several durations from one start (a clock's thresholds),
        finding the start's place in the calendar once."""
        if any(duration < ZERO for duration in durations):
            raise ValueError("a business duration cannot be negative")
        instant = _utc(start)
        if self.hours.is_24x7:
            return [(instant + duration).astimezone(self.hours.tz) for duration in durations]
        year, position = self._position(instant)
        return [
            self._instant(year, position + duration, resume=False) if duration
            else self._instant(year, position, resume=True)
            for duration in durations
        ]

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b`` (negative if ``b`` is earlier)."""
        start, end = _utc(a), _utc(b)
        if end < start:
            return -self.business_time_between(end, start)
        if self.hours.is_24x7:
            return end - start
        (start_year, start_pos), (end_year, end_pos) = self._position(start), self._position(end)
        years = sum((self._table(y).total for y in range(start_year, end_year)), ZERO)
        return years + end_pos - start_pos

    def add_working_days(self, start: datetime, durations: list[timedelta]) -> list[datetime]:
        """For each of ``durations`` counted in working days (``timedelta(days=1)`` is one), the
        earliest moment by which it has run since ``start``: 3 days from Monday 10:00 is
        Thursday 10:00 if all four are working days, whatever their hours; a part of a day is
        that share of the day's working time. Like ``add_business_time``, a start outside
        working hours counts from the next business moment, and a whole number of days from a
        day's opening ends at a closing (18:00)."""
        if any(duration < ZERO for duration in durations):
            raise ValueError("a number of working days cannot be negative")
        year, position = self._day_position(_utc(start))
        return [
            self._day_instant(year, position + duration // MICROSECOND, resume=not duration)
            for duration in durations
        ]

    def working_days_between(self, a: datetime, b: datetime) -> timedelta:
        """Working days from ``a`` to ``b`` (one day as ``timedelta(days=1)``; negative if
        ``b`` is earlier), the inverse of ``add_working_days``."""
        start, end = _utc(a), _utc(b)
        if end < start:
            return -self.working_days_between(end, start)
        (start_year, start_pos), (end_year, end_pos) = (
            self._day_position(start), self._day_position(end))
        years = sum(self._table(y).working_days for y in range(start_year, end_year)) * DAY_US
        return timedelta(microseconds=years + end_pos - start_pos)

    # A position is the business time from the start of a (local) year to an instant; a day
    # position the working days since then, in microseconds of a day.

    def _position(self, instant: datetime) -> tuple[int, timedelta]:
        year, _index, position = self._locate(instant)
        return year, position

    def _locate(self, instant: datetime) -> tuple[int, int, timedelta]:
        """The (local) year of ``instant``, its day's index in that year and its position."""
        local = instant.astimezone(self.hours.tz)
        table = self._table(local.year)
        index = local.toordinal() - table.first_ordinal
        position = table.before[index]
        for start, end in table.spans[index]:
            if instant >= end:
                position += end - start
            else:
                if instant > start:
                    position += instant - start
                break
        return local.year, index, position

    def _day_position(self, instant: datetime) -> tuple[int, int]:
        year, index, position = self._locate(instant)
        table = self._table(year)
        days = bisect_left(table.working, index)  # working days before this one
        length = table.length(index) // MICROSECOND
        run = (position - table.before[index]) // MICROSECOND
        # Rounded down: time counted is never more than has run.
        return year, days * DAY_US + (run * DAY_US // length if length else 0)

    def _day_instant(self, year: int, position: int, *, resume: bool) -> datetime:
        """The instant at day ``position`` in ``year`` (which may overflow into later years),
        found as the business-time position it stands for; ``resume`` as in ``_instant``."""
        table = self._table(year)
        while position > table.working_days * DAY_US or (
            resume and position == table.working_days * DAY_US
        ):
            position -= table.working_days * DAY_US
            year += 1
            table = self._table(year)
        days, part = divmod(position, DAY_US)
        if not part:
            # The end of the last whole day, which is also where the next day begins.
            business = table.before[table.working[days - 1] + 1] if days else ZERO
        else:
            index = table.working[days]
            # Rounded up: the earliest moment by which the part of the day has run.
            run = -(-part * (table.length(index) // MICROSECOND) // DAY_US)
            business = table.before[index] + timedelta(microseconds=run)
        return self._instant(year, business, resume=resume)

    def _instant(self, year: int, position: timedelta, *, resume: bool) -> datetime:
        """The instant at ``position`` in ``year`` (which may overflow into later years).

        Several instants share a position (the clock stands still outside working hours):
        ``resume`` picks the one where the clock runs on (next morning), otherwise the first
        one reached (yesterday's close).
        """
        table = self._table(year)
        while position > table.total or (resume and position == table.total):
            position -= table.total
            year += 1
            table = self._table(year)
        find = bisect_right if resume else bisect_left
        index = find(table.before, position) - 1
        left = position - table.before[index]
        for start, end in table.spans[index]:
            length = end - start
            if left < length or (left == length and not resume):
                return (start + left).astimezone(self.hours.tz)
            left -= length
        raise AssertionError("a year table's spans disagree with its totals")

    def _table(self, year: int) -> _YearTable:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = self._build_table(year)
        return table

    def _build_table(self, year: int) -> _YearTable:
        first = date(year, 1, 1).toordinal()
        all_spans: list[tuple[Span, ...]] = []
        before = [ZERO]
        flags = bytes([1]) * len(_dates_of(year)) if self.hours.is_24x7 else (
            self.days.year_flags(year))
        for index, worked in enumerate(flags):
            spans = self._spans(date.fromordinal(first + index)) if worked else ()
            all_spans.append(spans)
            before.append(before[-1] + sum((end - start for start, end in spans), ZERO))
        working = [i for i, spans in enumerate(all_spans) if spans]
        return _YearTable(first, tuple(all_spans), before, working)

    def _spans(self, day: date) -> tuple[Span, ...]:
        tz, spans = self.hours.tz, []
        # Around the clock, a day is a working window from midnight to midnight (it is used
        # only to count working days; business time 24×7 is plain elapsed time).
        windows = ((time(0), time(0)),) if self.hours.is_24x7 else self.hours.windows
        for start, end in windows:
            # A window runs from the moment the clock first shows its start to the moment it
            # first shows its end: one spanning fall-back is longer by the repeated time, one
            # spanning spring-forward shorter by the skipped time (empty if it is all skipped).
            span_start = _first_reading(day, start, tz)
            span_end = _first_reading(day + ONE_DAY if end <= start else day, end, tz)
            if span_end > span_start:
                spans.append((span_start, span_end))
        return tuple(spans)


def _first_reading(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) at which a clock in ``tz`` shows ``at`` on ``day`` or later.

    That is the instant itself for most wall times; the first of the two in a fall-back
    overlap; and the change itself for a time a spring-forward gap skips. (``combine`` alone,
    fold=0, reads a skipped time with the offset from before the change, which lands as far
    after the change as the time is into the gap: 02:30 in a 02:00 → 03:00 gap would be 03:30.)
    """
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the first of two readings
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # Skipped: with the offset from after the change (fold=1) it lands as far before the
    # change. Bisect between the two for the first microsecond the clock shows ``wall`` or later.
    low = min(instant, wall.replace(tzinfo=tz, fold=1).astimezone(UTC))
    if low.astimezone(tz).replace(tzinfo=None) >= wall:
        return low
    # Microseconds after ``low``: the clock shows less than ``wall`` at ``below``, not at ``above``.
    below, above = 0, (instant - low) // MICROSECOND
    while above - below > 1:
        middle = (below + above) // 2
        if (low + middle * MICROSECOND).astimezone(tz).replace(tzinfo=None) >= wall:
            above = middle
        else:
            below = middle
    return low + above * MICROSECOND


@functools.lru_cache(maxsize=256)
def work_calendar(hours: WorkingTime, days: DayClassifier) -> WorkCalendar:
    """The calendar for these rules, shared with every caller asking for the same rules (so
    its year tables are built once per process, and an edited calendar simply gets new ones)."""
    return WorkCalendar(hours, days)


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"business time needs timezone-aware datetimes, got {t!r}")
    return t.astimezone(UTC)


def computed_holidays(year: int, language: str) -> list[tuple[date, str]]:
    """The public holidays the fallback (``holidays.China``) computes for ``year``, named in
    ``language`` (a Django language code): what a desk counts in a year chinese-calendar does
    not know yet, for an admin to check against the official schedule."""
    import holidays  # see statutory_working_days: loaded only when needed

    names = "zh_CN" if language.lower().startswith("zh") else "en_US"
    return sorted(holidays.China(years=year, language=names).items())
