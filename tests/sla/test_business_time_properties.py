"""Properties of business time over random starts and durations, checked against a slow
reference that walks day by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.sla.calendars import SHANGHAI, DayClassifier, WorkCalendar, WorkingTime, work_calendar

BERLIN = ZoneInfo("Europe/Berlin")
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
    # Berlin with night hours across both DST changes, worked every Sunday of 2025–2027.
    work_calendar(
        WorkingTime(tz=BERLIN, day_start=time(1, 30), day_end=time(4, 15)),
        DayClassifier(
            use_statutory_holidays=False,
            extra_working_days=frozenset(
                date(2025, 1, 5) + timedelta(weeks=n) for n in range(157)
            ),
        ),
    ),
    work_calendar(WorkingTime(tz=BERLIN, is_24x7=True), DayClassifier()),
]

calendars = st.sampled_from(CALENDARS)
zones = st.sampled_from([UTC, SHANGHAI, BERLIN])
# Starts and durations on round minutes hit window edges exactly; arbitrary ones test the rest.
edges = [time(0), time(1, 30), time(4, 15), time(9), time(12), time(13, 30), time(18)]
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
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10, hours=3)),
    st.integers(0, 160).map(lambda n: n * timedelta(minutes=15)),
)


def reference_add(calendar: WorkCalendar, start: datetime, duration: timedelta) -> datetime:
    """add_business_time the slow, obvious way: day after day, window after window."""
    tz = calendar.hours.tz
    if calendar.hours.is_24x7:
        return (start.astimezone(UTC) + duration).astimezone(tz)
    instant, left, day = start.astimezone(UTC), duration, start.astimezone(tz).date()
    while True:
        if calendar.is_working_day(day):
            for opening, closing in calendar.hours.windows:
                window_start = datetime.combine(day, opening, tzinfo=tz).astimezone(UTC)
                window_end = datetime.combine(day, closing, tzinfo=tz).astimezone(UTC)
                if window_end <= instant:
                    continue
                instant = max(instant, window_start)
                if instant + left <= window_end:
                    return (instant + left).astimezone(tz)
                left -= window_end - instant
                instant = window_end
        day += timedelta(days=1)


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
    assert deadline == reference_add(calendar, start, duration)
    assert deadline.tzinfo is calendar.hours.tz


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, first=durations, second=durations)
def test_adding_in_two_steps_or_from_the_next_business_moment_changes_nothing(
    calendar: WorkCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    total = calendar.add_business_time(start, first + second)
    assert total == calendar.add_business_time(calendar.next_business_moment(start), first + second)
    assert calendar.add_business_time(start, first) <= total
    if second:  # a clock resumed at its intermediate deadline ends at the same moment
        assert calendar.add_business_time(calendar.add_business_time(start, first), second) == total


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, a=starts, b=starts, c=starts)
def test_between_is_additive_and_antisymmetric(
    calendar: WorkCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    between = calendar.business_time_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, b) == -between(b, a)
    if a <= b:
        assert between(a, b) >= timedelta(0)
