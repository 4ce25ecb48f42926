"""Targets in business days count working days of the calendar, whatever their length: hand-
computed cases on the Chinese calendar, and properties against a day-by-day reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.sla.calendars import SHANGHAI, DayClassifier, WorkCalendar, WorkingTime, work_calendar
from opsdesk.sla.targets import Target
from tests.sla.test_business_time_properties import CALENDARS, assert_same_moment, starts

DAY = timedelta(days=1)
OFFICE = work_calendar(WorkingTime(), DayClassifier())
LUNCH = work_calendar(WorkingTime(lunch_start=time(12), lunch_end=time(13, 30)), DayClassifier())


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def add_days(calendar: WorkCalendar, start: datetime, days: float) -> datetime:
    [deadline] = calendar.add_working_days(start, [days * DAY])
    return deadline


@pytest.mark.parametrize("calendar", [OFFICE, LUNCH], ids=["9-hour days", "lunch 12:00–13:30"])
class TestHandComputed:
    def test_three_days_from_monday_morning_is_thursday_morning(self, calendar: WorkCalendar
                                                                ) -> None:
        assert add_days(calendar, sh(2026, 11, 16, 10), 3) == sh(2026, 11, 19, 10)

    def test_national_day_and_the_make_up_sunday(self, calendar: WorkCalendar) -> None:
        # Friday 2025-09-26 10:00: Sunday 09-28 is worked, 10-01…08 rest, Saturday 10-11
        # worked.
        assert add_days(calendar, sh(2025, 9, 26, 10), 1) == sh(2025, 9, 28, 10)
        assert add_days(calendar, sh(2025, 9, 26, 10), 3) == sh(2025, 9, 30, 10)
        assert add_days(calendar, sh(2025, 9, 26, 10), 5) == sh(2025, 10, 10, 10)
        assert add_days(calendar, sh(2025, 9, 26, 10), 6) == sh(2025, 10, 11, 10)

    def test_the_year_after_the_librarys_last_counts_computed_holidays(
        self, calendar: WorkCalendar
    ) -> None:
        # 2026-12-24, ten days: 12-25, 12-28…31, then 2027-01-04…08 (01-01 computed).
        assert add_days(calendar, sh(2026, 12, 24, 10), 10) == sh(2027, 1, 8, 10)

    def test_a_night_filing_counts_whole_days_from_the_next_opening(
        self, calendar: WorkCalendar
    ) -> None:
        # Wednesday 22:40: Thursday, Friday and Monday, to Monday's close.
        assert add_days(calendar, sh(2026, 11, 18, 22, 40), 3) == sh(2026, 11, 23, 18)

    def test_between_counts_the_share_of_a_day(self, calendar: WorkCalendar) -> None:
        length = calendar.hours.day_length
        half_day = calendar.add_business_time(sh(2026, 11, 16, 9), length / 2)
        assert calendar.working_days_between(sh(2026, 11, 13, 9), half_day) == 1.5 * DAY
        assert calendar.working_days_between(half_day, sh(2026, 11, 13, 9)) == -1.5 * DAY


def test_a_part_of_a_day_is_that_share_of_the_days_working_time() -> None:
    # Lunch 12:00–13:30: a 7.5-hour day; a quarter of it (1 h 52.5 min) from 11:00 runs into
    # the afternoon.
    assert add_days(LUNCH, sh(2026, 11, 16, 11), 0.25) == sh(2026, 11, 16, 14, 22) + timedelta(
        seconds=30)
    # The same share of a 9-hour day, 2 h 15 min.
    assert add_days(OFFICE, sh(2026, 11, 16, 11), 0.25) == sh(2026, 11, 16, 13, 15)


def test_around_the_clock_a_day_is_a_calendar_day() -> None:
    always = work_calendar(WorkingTime(is_24x7=True), DayClassifier())
    assert add_days(always, sh(2025, 9, 30, 22), 2) == sh(2025, 10, 2, 22)
    assert always.working_days_between(sh(2025, 10, 1, 6), sh(2025, 10, 1, 18)) == DAY / 2


def test_a_negative_number_of_days_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        OFFICE.add_working_days(sh(2026, 11, 16, 10), [-DAY])


@pytest.mark.parametrize(("target", "english", "chinese"), [
    (Target(Decimal("15.00"), "minutes"), "15 minutes", "15"),
    (Target(Decimal("1.00"), "hours"), "1 hour", "1"),
    (Target(Decimal("2.50"), "hours"), "2.5 hours", "2.5"),
    (Target(Decimal("1"), "business_days"), "1 business day", "1"),
    (Target(Decimal("3"), "business_days"), "3 business days", "3"),
])
def test_targets_read_as_entered(target: Target, english: str, chinese: str) -> None:
    with translation.override("en"):
        assert str(target) == english
    with translation.override("zh-hans"):
        assert chinese in str(target)


def days_reference(calendar: WorkCalendar, start: datetime, days: int) -> datetime:
    """``days`` whole working days from a moment inside a working window, the obvious way:
    the same share of the day's working time, that many working days later."""
    tz = calendar.hours.tz
    day = start.astimezone(tz).date()
    opening = datetime.combine(day, time(0), tzinfo=tz)
    share = calendar.business_time_between(opening, start) / calendar.business_time_between(
        opening, opening + DAY)
    for _ in range(days):
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    opening = datetime.combine(day, time(0), tzinfo=tz)
    length = calendar.business_time_between(opening, opening + DAY)
    return calendar.add_business_time(opening, share * length)


SHANGHAI_OFFICES = [OFFICE, LUNCH, CALENDARS[0]]
whole_days = st.integers(1, 30)
day_parts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=25))


@settings(max_examples=300, deadline=None)
@given(calendar=st.sampled_from(SHANGHAI_OFFICES),
       day=st.dates(date(2025, 1, 1), date(2027, 11, 30)),
       minutes=st.integers(1, 7 * 60), days=whole_days)
def test_whole_days_land_on_the_same_share_of_a_later_working_day(
    calendar: WorkCalendar, day: date, minutes: int, days: int
) -> None:
    opening = calendar.next_business_moment(datetime.combine(day, time(0), tzinfo=SHANGHAI))
    start = calendar.add_business_time(opening, timedelta(minutes=minutes))
    assert_same_moment(add_days(calendar, start, days), days_reference(calendar, start, days))


@settings(max_examples=300, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=starts, amount=day_parts)
def test_between_is_the_inverse_of_adding_days(
    calendar: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    [deadline] = calendar.add_working_days(start, [amount])
    counted = calendar.working_days_between(start, deadline)
    # A share of a day is kept to the microsecond of a day, a moment to the microsecond of
    # time: counted back, the deadline is the same to within one.
    assert abs(counted - amount) < timedelta(milliseconds=10)
    [again] = calendar.add_working_days(start, [counted])
    assert abs(again.astimezone(UTC) - deadline.astimezone(UTC)) <= timedelta(microseconds=1)


@settings(max_examples=200, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), start=starts, first=day_parts, second=day_parts)
def test_more_days_never_end_sooner(calendar: WorkCalendar, start: datetime,
                                    first: timedelta, second: timedelta) -> None:
    sooner, later = calendar.add_working_days(start, [first, first + second])
    assert sooner.astimezone(UTC) <= later.astimezone(UTC)
