"""Business-time arithmetic on real Chinese calendars: 调休, holidays, lunch, nights, 2027, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.utils import timezone

from opsdesk.sla.calendars import (
    SHANGHAI,
    DayClassifier,
    WorkCalendar,
    WorkingTime,
    last_official_year,
    official_schedule_known,
    statutory_working_days,
    work_calendar,
)

BERLIN = ZoneInfo("Europe/Berlin")
CET, CEST = timedelta(hours=1), timedelta(hours=2)
ONE_DAY = timedelta(days=1)
LUNCH = WorkingTime(lunch_start=time(12), lunch_end=time(13, 30))
TWO_HOURS = timedelta(hours=2)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def office() -> WorkCalendar:
    """09:00–18:00 Asia/Shanghai, Chinese statutory holidays, no lunch break."""
    return work_calendar(WorkingTime(), DayClassifier())


def test_the_calendars_facts_these_tests_rely_on() -> None:
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, 调休 for National Day
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, 调休
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Saturday, 调休 for Spring Festival
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


class TestMediumTicketBeforeAHoliday:
    """A medium ticket (2 business hours to respond) filed at Friday 17:30."""

    def test_friday_evening_before_national_day_runs_into_the_tiaoxiu_sunday(
        self, office: WorkCalendar
    ) -> None:
        with time_machine.travel(sh(2025, 9, 26, 17, 30), tick=False):
            filed = timezone.now()
        # 30 minutes on Friday, Saturday off, Sunday 2025-09-28 is a working day (调休).
        assert office.add_business_time(filed, TWO_HOURS) == sh(2025, 9, 28, 10, 30)

    def test_last_day_before_the_eight_day_holiday(self, office: WorkCalendar) -> None:
        # Tuesday 2025-09-30: 1–8 October are off, work resumes on Thursday the 9th.
        assert office.add_business_time(sh(2025, 9, 30, 17, 30), TWO_HOURS) == sh(
            2025, 10, 9, 10, 30
        )

    def test_friday_after_the_holiday_runs_into_the_tiaoxiu_saturday(
        self, office: WorkCalendar
    ) -> None:
        assert office.add_business_time(sh(2025, 10, 10, 17, 30), TWO_HOURS) == sh(
            2025, 10, 11, 10, 30
        )

    def test_spring_festival_2026(self, office: WorkCalendar) -> None:
        # Friday 13 Feb → Saturday 14 Feb is worked (调休) → then 15–23 Feb off.
        assert office.add_business_time(sh(2026, 2, 13, 17, 30), TWO_HOURS) == sh(
            2026, 2, 14, 10, 30
        )
        assert office.add_business_time(sh(2026, 2, 14, 17, 30), TWO_HOURS) == sh(
            2026, 2, 24, 10, 30
        )
        assert office.business_time_between(sh(2026, 2, 14, 17, 30), sh(2026, 2, 24, 10, 30)) == (
            TWO_HOURS
        )


class TestOutsideBusinessHours:
    def test_filed_at_night_counts_from_the_next_morning(self, office: WorkCalendar) -> None:
        with time_machine.travel(sh(2025, 11, 4, 23, 40), tick=False):
            assert office.add_business_time(timezone.now(), TWO_HOURS) == sh(2025, 11, 5, 11)

    def test_filed_before_opening_counts_from_opening(self, office: WorkCalendar) -> None:
        assert office.add_business_time(sh(2025, 11, 5, 6, 15), TWO_HOURS) == sh(2025, 11, 5, 11)

    def test_filed_on_a_weekend_counts_from_monday(self, office: WorkCalendar) -> None:
        assert office.add_business_time(sh(2025, 11, 8, 14), TWO_HOURS) == sh(2025, 11, 10, 11)

    def test_filed_in_a_holiday_counts_from_the_first_working_day(
        self, office: WorkCalendar
    ) -> None:
        assert office.add_business_time(sh(2025, 10, 3, 10), TWO_HOURS) == sh(2025, 10, 9, 11)

    def test_next_business_moment(self, office: WorkCalendar) -> None:
        assert office.next_business_moment(sh(2025, 11, 5, 10, 7)) == sh(2025, 11, 5, 10, 7)
        assert office.next_business_moment(sh(2025, 11, 5, 18)) == sh(2025, 11, 6, 9)
        assert office.next_business_moment(sh(2025, 9, 27, 12)) == sh(2025, 9, 28, 9)

    def test_zero_duration_gives_the_next_business_moment(self, office: WorkCalendar) -> None:
        assert office.add_business_time(sh(2025, 11, 8, 14), timedelta(0)) == sh(2025, 11, 10, 9)

    def test_a_deadline_at_closing_time_is_closing_time(self, office: WorkCalendar) -> None:
        assert office.add_business_time(sh(2025, 11, 5, 16), TWO_HOURS) == sh(2025, 11, 5, 18)

    def test_elapsed_time_ignores_nights_and_weekends(self, office: WorkCalendar) -> None:
        friday_noon, monday_noon = sh(2025, 11, 7, 12), sh(2025, 11, 10, 12)
        assert office.business_time_between(friday_noon, monday_noon) == timedelta(hours=9)
        assert office.business_time_between(monday_noon, friday_noon) == timedelta(hours=-9)


class TestLunchBreak:
    def test_the_lunch_break_is_skipped(self) -> None:
        calendar = work_calendar(LUNCH, DayClassifier())
        assert calendar.add_business_time(sh(2025, 11, 5, 11), TWO_HOURS) == sh(2025, 11, 5, 14, 30)

    def test_filed_at_lunch_counts_from_the_afternoon(self) -> None:
        calendar = work_calendar(LUNCH, DayClassifier())
        assert calendar.add_business_time(sh(2025, 11, 5, 12, 20), TWO_HOURS) == sh(
            2025, 11, 5, 15, 30
        )

    def test_a_day_with_lunch_has_seven_and_a_half_hours(self) -> None:
        calendar = work_calendar(LUNCH, DayClassifier())
        assert LUNCH.day_length == timedelta(hours=7, minutes=30)
        # Friday 17:30 before National Day, 4 hours: 30 min, then the 调休 Saturday 10-11
        # 09:00–12:00 (3 h) and 13:30–14:00.
        assert calendar.add_business_time(sh(2025, 10, 10, 17, 30), timedelta(hours=4)) == sh(
            2025, 10, 11, 14
        )


class TestBeyondTheOfficialSchedule:
    """chinese-calendar stops at 2026; 2027 comes from ``holidays`` and admin overrides."""

    def test_the_last_known_year_is_found_not_hard_coded(self) -> None:
        assert official_schedule_known(2026)
        assert not official_schedule_known(2027)
        assert last_official_year(date(2025, 6, 1)) == 2026
        assert last_official_year(date(2027, 6, 1)) is None

    def test_2027_uses_computed_holidays_and_plain_weekends(self) -> None:
        days = statutory_working_days(2027)
        assert len(days) == 365
        new_year, monday = date(2027, 1, 1), date(2027, 1, 4)
        assert not days[new_year.timetuple().tm_yday - 1]
        assert days[monday.timetuple().tm_yday - 1]

    def test_a_deadline_running_into_2027_is_computed(self, office: WorkCalendar) -> None:
        # Thursday 2026-12-31 17:00: 1 h, then New Year's Day (Friday) and the weekend.
        assert office.add_business_time(sh(2026, 12, 31, 17), TWO_HOURS) == sh(2027, 1, 4, 10)

    def test_spring_festival_2027_from_holidays(self, office: WorkCalendar) -> None:
        # ``holidays`` computes 5–10 Feb 2027 (Friday to Wednesday) as the holiday.
        assert office.add_business_time(sh(2027, 2, 4, 17), TWO_HOURS) == sh(2027, 2, 11, 10)

    def test_override_working_day_and_holiday_in_2027(self) -> None:
        calendar = work_calendar(
            WorkingTime(),
            DayClassifier(
                extra_working_days=frozenset({date(2027, 2, 20)}),  # a Saturday (调休)
                extra_holidays=frozenset({date(2027, 2, 11)}),
            ),
        )
        assert calendar.add_business_time(sh(2027, 2, 19, 17, 30), TWO_HOURS) == sh(
            2027, 2, 20, 10, 30
        )
        assert calendar.add_business_time(sh(2027, 2, 4, 17), TWO_HOURS) == sh(2027, 2, 12, 10)

    def test_overrides_beat_the_library_in_known_years(self) -> None:
        days = DayClassifier(
            extra_holidays=frozenset({date(2025, 9, 28)}),
            extra_working_days=frozenset({date(2025, 10, 3)}),
        )
        assert not days.is_working_day(date(2025, 9, 28))
        assert days.is_working_day(date(2025, 10, 3))
        assert days.is_working_day(date(2025, 10, 11))

    @pytest.mark.parametrize("year", [1, 1900, 2004, 2101, 9999])
    def test_no_year_raises(self, year: int) -> None:
        assert len(statutory_working_days(year)) in (365, 366)
        assert DayClassifier().is_working_day(date(year, 6, 1)) in (True, False)

    def test_without_statutory_holidays_weekdays_work(self) -> None:
        days = DayClassifier(use_statutory_holidays=False)
        assert days.is_working_day(date(2025, 10, 1))
        assert not days.is_working_day(date(2025, 9, 28))


class TestAroundTheClock:
    def test_24x7_is_plain_addition(self) -> None:
        calendar = work_calendar(WorkingTime(is_24x7=True), DayClassifier())
        start = sh(2025, 10, 1, 3)  # a holiday, at night
        assert calendar.add_business_time(start, TWO_HOURS) == sh(2025, 10, 1, 5)
        assert calendar.business_time_between(start, sh(2025, 10, 2, 3)) == timedelta(days=1)
        assert calendar.is_working_day(date(2025, 10, 1))

    def test_24x7_counts_real_hours_across_dst(self) -> None:
        calendar = work_calendar(WorkingTime(tz=BERLIN, is_24x7=True), DayClassifier())
        saturday_noon = datetime(2025, 3, 29, 12, tzinfo=BERLIN)
        sunday_1pm = datetime(2025, 3, 30, 13, tzinfo=BERLIN)  # clocks went 02:00 → 03:00
        assert calendar.add_business_time(saturday_noon, timedelta(hours=24)) == sunday_1pm
        assert calendar.business_time_between(saturday_noon, sunday_1pm) == timedelta(hours=24)


class TestDaylightSaving:
    def test_wall_clock_hours_survive_the_change(self) -> None:
        weekdays = DayClassifier(use_statutory_holidays=False)
        calendar = work_calendar(WorkingTime(tz=BERLIN), weekdays)
        friday = datetime(2025, 3, 28, 17, tzinfo=BERLIN)  # CET, +01:00
        deadline = calendar.add_business_time(friday, TWO_HOURS)
        assert deadline == datetime(2025, 3, 31, 10, tzinfo=BERLIN)
        assert deadline.utcoffset() == timedelta(hours=2)  # CEST
        assert deadline.tzinfo == BERLIN

    @pytest.mark.parametrize(
        ("sunday", "real_hours"), [(date(2025, 3, 30), 3), (date(2025, 10, 26), 5)]
    )
    def test_a_working_window_across_the_change_counts_real_time(
        self, sunday: date, real_hours: int
    ) -> None:
        # 01:00–05:00 on a worked Sunday: spring-forward loses an hour, fall-back gains one.
        calendar = work_calendar(
            WorkingTime(tz=BERLIN, day_start=time(1), day_end=time(5)),
            DayClassifier(use_statutory_holidays=False, extra_working_days=frozenset({sunday})),
        )
        opening = datetime.combine(sunday, time(1), tzinfo=BERLIN)
        closing = datetime.combine(sunday, time(5), tzinfo=BERLIN)
        assert calendar.business_time_between(opening, closing) == timedelta(hours=real_hours)
        assert calendar.add_business_time(opening, timedelta(hours=real_hours)) == closing

    def test_deadlines_in_the_repeated_hour_keep_their_real_order(self) -> None:
        # Found by hypothesis: 01:30–04:15 on Sunday 2027-10-31, when 02:00–03:00 repeats.
        calendar = work_calendar(
            WorkingTime(tz=BERLIN, day_start=time(1, 30), day_end=time(4, 15)),
            DayClassifier(
                use_statutory_holidays=False, extra_working_days=frozenset({date(2027, 10, 31)})
            ),
        )
        saturday = datetime(2027, 10, 30, tzinfo=UTC)  # not worked: counts from 01:30 CEST
        first = calendar.add_business_time(saturday, timedelta(minutes=45))
        total = calendar.add_business_time(saturday, timedelta(minutes=90))
        assert (first.hour, first.minute, first.fold, first.utcoffset()) == (2, 15, 0, CEST)
        assert (total.hour, total.minute, total.fold, total.utcoffset()) == (2, 0, 1, CET)
        assert first.astimezone(UTC) == datetime(2027, 10, 31, 0, 15, tzinfo=UTC)
        assert total.astimezone(UTC) == datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
        # 02:15 CEST comes 45 minutes before 02:00 CET; Python compares two datetimes of one
        # zone by wall clock, fold ignored, so only the instants order them.
        assert first.astimezone(UTC) < total.astimezone(UTC)
        assert not first <= total
        assert calendar.business_time_between(first, total) == timedelta(minutes=45)
        assert calendar.add_business_time(first, timedelta(minutes=45)).astimezone(UTC) == (
            total.astimezone(UTC)
        )

    @pytest.mark.parametrize(
        ("sunday", "opening", "closing", "first_show", "real_time"),
        [
            # Spring forward, 02:00 → 03:00: an edge the clock skips is the moment it jumps.
            (date(2025, 3, 30), time(2, 30), time(4, 15), ("03:00+02", "04:15+02"), 75),
            (date(2025, 3, 30), time(1, 30), time(2, 30), ("01:30+01", "03:00+02"), 30),
            (date(2025, 3, 30), time(2, 15), time(2, 45), None, 0),
            # Fall back, 03:00 → 02:00: an edge the clock shows twice is its first showing.
            (date(2025, 10, 26), time(2, 30), time(4, 15), ("02:30+02", "04:15+01"), 165),
            (date(2025, 10, 26), time(1, 30), time(2, 30), ("01:30+02", "02:30+02"), 60),
            (date(2025, 10, 26), time(2, 15), time(2, 45), ("02:15+02", "02:45+02"), 30),
        ],
    )
    def test_window_edges_inside_the_changing_hour(
        self,
        sunday: date,
        opening: time,
        closing: time,
        first_show: tuple[str, str] | None,
        real_time: int,
    ) -> None:
        """A window runs from when the clock first shows its opening (or jumps past it) to
        when it first shows its closing (or jumps past it)."""
        calendar = work_calendar(
            WorkingTime(tz=BERLIN, day_start=opening, day_end=closing),
            DayClassifier(use_statutory_holidays=False, extra_working_days=frozenset({sunday})),
        )
        midnight, next_midnight = (
            datetime.combine(day, time(), tzinfo=BERLIN) for day in (sunday, sunday + ONE_DAY)
        )
        assert calendar.business_time_between(midnight, next_midnight) == timedelta(
            minutes=real_time
        )
        if first_show is None:  # never on the clock: the next working day's window
            monday = calendar.next_business_moment(midnight)
            assert monday.date() == sunday + ONE_DAY
            return

        def shown(moment: datetime) -> str:  # e.g. 02:30+02, the first 02:30 of fall-back
            return f"{moment:%H:%M%z}"[:-2]

        start = calendar.next_business_moment(midnight)
        end = calendar.add_business_time(midnight, timedelta(minutes=real_time))
        assert (shown(start), shown(end)) == first_show
        assert calendar.add_business_time(end, timedelta(0)).date() == sunday + ONE_DAY


class TestInputs:
    def test_naive_datetimes_are_refused(self, office: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            office.add_business_time(datetime(2025, 11, 5, 10), TWO_HOURS)  # noqa: DTZ001

    def test_negative_durations_are_refused(self, office: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="negative"):
            office.add_business_time(sh(2025, 11, 5, 10), -TWO_HOURS)

    def test_results_are_in_the_calendars_zone_whatever_the_input(
        self, office: WorkCalendar
    ) -> None:
        start = datetime(2025, 11, 5, 2, tzinfo=ZoneInfo("UTC"))  # 10:00 in Shanghai
        deadline = office.add_business_time(start, TWO_HOURS)
        assert deadline == sh(2025, 11, 5, 12)
        assert deadline.tzinfo == SHANGHAI

    @pytest.mark.parametrize(
        "hours",
        [
            {"day_start": time(18), "day_end": time(9)},
            {"lunch_start": time(12)},
            {"lunch_start": time(8), "lunch_end": time(10)},
            {"lunch_start": time(13), "lunch_end": time(12)},
        ],
    )
    def test_inconsistent_working_hours_are_refused(self, hours: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            WorkingTime(**hours)

    def test_a_date_cannot_be_both_holiday_and_working_day(self) -> None:
        day = frozenset({date(2027, 2, 20)})
        with pytest.raises(ValueError, match="both"):
            DayClassifier(extra_holidays=day, extra_working_days=day)

    def test_same_rules_share_one_calendar(self) -> None:
        assert work_calendar(LUNCH, DayClassifier()) is work_calendar(
            WorkingTime(lunch_start=time(12), lunch_end=time(13, 30)), DayClassifier()
        )
