"""Properties of business time over random starts and durations, checked against a slow
reference that walks day by day.

Moments are compared as instants, in UTC (``at``): Python compares two datetimes of the same
zone by their wall-clock readings and ignores ``fold``, so in the hour that fall-back repeats
02:15 CEST would count as later than 02:00 CET (45 minutes after it) and as equal to 02:15 CET.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.sla.calendars import SHANGHAI, DayClassifier, WorkCalendar, WorkingTime, work_calendar

BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = timedelta(minutes=1)
# Every Sunday of 2025–2027 worked, so that the working hours meet both DST changes.
SUNDAYS = frozenset(date(2025, 1, 5) + timedelta(weeks=n) for n in range(157))
# Europe/Berlin: 02:00 → 03:00 in March, 03:00 → 02:00 in October (02:00–03:00 twice).
DST_CHANGES = [
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
]


def berlin_nights(hours: WorkingTime) -> WorkCalendar:
    return work_calendar(
        hours, DayClassifier(use_statutory_holidays=False, extra_working_days=SUNDAYS)
    )


CALENDARS = [
    # Shanghai office with lunch; crosses 2026 → 2027 where ``holidays`` and overrides rule.
    work_calendar(
        WorkingTime(lunch_start=time(12), lunch_end=time(13, 30)),
        DayClassifier(
            extra_working_days=frozenset({date(2027, 2, 20), date(2027, 10, 9)}),
            extra_holidays=frozenset({date(2027, 2, 11), date(2025, 12, 31)}),
        ),
    ),
    work_calendar(WorkingTime(), DayClassifier()),
    # Berlin with night hours across both DST changes.
    berlin_nights(WorkingTime(tz=BERLIN, day_start=time(1, 30), day_end=time(4, 15))),
    work_calendar(WorkingTime(tz=BERLIN, is_24x7=True), DayClassifier()),
    # Berlin night hours with edges inside the skipped / repeated hour: an opening, a lunch
    # break, and a window (02:05–02:20) that spring-forward skips entirely.
    berlin_nights(WorkingTime(tz=BERLIN, day_start=time(2, 30), day_end=time(4, 15))),
    berlin_nights(
        WorkingTime(
            tz=BERLIN,
            day_start=time(1),
            lunch_start=time(2, 15),
            lunch_end=time(2, 45),
            day_end=time(3, 30),
        )
    ),
    berlin_nights(
        WorkingTime(
            tz=BERLIN,
            day_start=time(2, 5),
            lunch_start=time(2, 20),
            lunch_end=time(4),
            day_end=time(5),
        )
    ),
]

calendars = st.sampled_from(CALENDARS)
zones = st.sampled_from([UTC, SHANGHAI, BERLIN])
# Starts and durations on round minutes hit window edges exactly; arbitrary ones test the rest.
edges = [
    time(0),
    time(1),
    time(1, 30),
    time(2, 5),
    time(2, 15),
    time(2, 20),
    time(2, 30),
    time(2, 45),
    time(4),
    time(4, 15),
    time(5),
    time(9),
    time(12),
    time(13, 30),
    time(18),
]
starts = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2027, 11, 30),  # noqa: DTZ001
        timezones=zones,
    ),
    st.builds(
        lambda day, at, tz: datetime.combine(day, at, tzinfo=tz),
        st.dates(date(2025, 1, 1), date(2027, 11, 30)),
        st.sampled_from(edges),
        zones,
    ),
    # Quarter hours from Saturday evening to Sunday morning around a DST change, in either
    # reading of a repeated hour (astimezone sets fold=1 on the second).
    st.builds(
        lambda day, quarters, tz: (
            datetime.combine(day, time(), tzinfo=UTC) + quarters * timedelta(minutes=15)
        ).astimezone(tz),
        st.sampled_from(DST_CHANGES),
        st.integers(-32, 32),
        zones,
    ),
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10, hours=3)),
    st.integers(0, 160).map(lambda n: n * timedelta(minutes=15)),
)


def at(moment: datetime) -> datetime:
    """The instant, comparable with any other whatever the zones and folds."""
    return moment.astimezone(UTC)


@functools.cache
def first_reading(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first whole minute at which a clock in ``tz`` shows ``wall`` on ``day`` or later:
    scanned minute by minute from three hours before the earlier of its two readings (fold 0
    and 1). Exact here, where window edges and DST changes fall on whole minutes."""
    target = datetime.combine(day, wall)
    readings = (target.replace(tzinfo=tz, fold=fold) for fold in (0, 1))
    instant = min(at(reading) for reading in readings) - timedelta(hours=3)
    assert instant.astimezone(tz).replace(tzinfo=None) < target
    while instant.astimezone(tz).replace(tzinfo=None) < target:
        instant += MINUTE
    return instant


def reference_add(calendar: WorkCalendar, start: datetime, duration: timedelta) -> datetime:
    """add_business_time the slow, obvious way: day after day, window after window."""
    tz = calendar.hours.tz
    if calendar.hours.is_24x7:
        return (at(start) + duration).astimezone(tz)
    instant, left, day = at(start), duration, start.astimezone(tz).date()
    while True:
        if calendar.is_working_day(day):
            for opening, closing in calendar.hours.windows:
                window_start = first_reading(day, opening, tz)
                window_end = first_reading(day, closing, tz)
                if window_end <= instant or window_end <= window_start:
                    continue
                instant = max(instant, window_start)
                if instant + left <= window_end:
                    return (instant + left).astimezone(tz)
                left -= window_end - instant
                instant = window_end
        day += timedelta(days=1)


def assert_same_moment(got: datetime, expected: datetime) -> None:
    """The same instant, shown with the same offset (so a repeated hour's reading is right)."""
    assert (at(got), got.utcoffset()) == (at(expected), expected.utcoffset())


@settings(max_examples=400, deadline=None)
@given(calendar=calendars, start=starts, duration=durations)
def test_between_is_the_inverse_of_add(
    calendar: WorkCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add_business_time(start, duration)
    assert calendar.business_time_between(start, deadline) == duration


@settings(max_examples=400, deadline=None)
@given(calendar=calendars, start=starts, duration=durations)
def test_add_agrees_with_the_day_by_day_reference(
    calendar: WorkCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add_business_time(start, duration)
    assert_same_moment(deadline, reference_add(calendar, start, duration))
    assert deadline.tzinfo is calendar.hours.tz


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, first=durations, second=durations)
def test_adding_in_two_steps_or_from_the_next_business_moment_changes_nothing(
    calendar: WorkCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    total = calendar.add_business_time(start, first + second)
    resumed = calendar.next_business_moment(start)
    assert at(start) <= at(resumed)
    assert_same_moment(calendar.add_business_time(resumed, first + second), total)
    assert at(calendar.add_business_time(start, first)) <= at(total)
    if second:  # a clock resumed at its intermediate deadline ends at the same moment
        halfway = calendar.add_business_time(start, first)
        assert_same_moment(calendar.add_business_time(halfway, second), total)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, a=starts, b=starts, c=starts)
def test_between_is_additive_and_antisymmetric(
    calendar: WorkCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    between = calendar.business_time_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, b) == -between(b, a)
    if at(a) <= at(b):
        assert between(a, b) >= timedelta(0)
