"""Business calendars as the admin configures them, and the arithmetic built from them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation

from opsdesk.sla.calendars import SHANGHAI
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, OverrideKind
from opsdesk.sla.selectors import get_work_calendar

pytestmark = pytest.mark.django_db
TWO_HOURS = timedelta(hours=2)


def make_calendar(**fields: Any) -> BusinessCalendar:
    return BusinessCalendar.objects.create(**{"name": "运维值班日历", **fields})


def override(calendar: BusinessCalendar, day: date, kind: str, note: str = "") -> None:
    CalendarOverride.objects.create(calendar=calendar, date=day, kind=kind, note=note)


def test_defaults_are_shanghai_office_hours_with_statutory_holidays() -> None:
    calendar = make_calendar()
    work = get_work_calendar(calendar=calendar)
    assert work.hours.tz == SHANGHAI
    assert (work.hours.day_start, work.hours.day_end) == (time(9), time(18))
    assert work.hours.windows == ((time(9), time(18)),)
    assert work.days.use_statutory_holidays
    assert not work.hours.is_24x7


def test_next_years_schedule_entered_as_overrides(django_assert_num_queries: Any) -> None:
    calendar = make_calendar(lunch_start=time(12), lunch_end=time(13, 30))
    override(calendar, date(2027, 2, 20), OverrideKind.WORKING_DAY, "2027 春节调休")
    override(calendar, date(2027, 2, 11), OverrideKind.HOLIDAY, "2027 春节")
    with django_assert_num_queries(2):  # the configuration generation, then the overrides
        work = get_work_calendar(calendar=calendar)
    with django_assert_num_queries(1):  # kept in memory while nothing changes
        assert get_work_calendar(calendar=calendar) is work
    assert work.add_business_time(datetime(2027, 2, 19, 17, 30, tzinfo=SHANGHAI), TWO_HOURS) == (
        datetime(2027, 2, 20, 10, 30, tzinfo=SHANGHAI)
    )
    # 5–10 Feb from ``holidays``, the 11th from the override: work resumes Friday the 12th.
    assert work.add_business_time(datetime(2027, 2, 4, 17, tzinfo=SHANGHAI), TWO_HOURS) == (
        datetime(2027, 2, 12, 10, tzinfo=SHANGHAI)
    )


def test_an_edited_calendar_gets_fresh_arithmetic() -> None:
    calendar = make_calendar()
    before = get_work_calendar(calendar=calendar)
    assert get_work_calendar(calendar=calendar) is before  # same rules: tables are shared
    override(calendar, date(2025, 11, 5), OverrideKind.HOLIDAY)
    after = get_work_calendar(calendar=calendar)
    assert not after.is_working_day(date(2025, 11, 5))
    assert before.is_working_day(date(2025, 11, 5))


def test_24x7_and_other_time_zones() -> None:
    work = get_work_calendar(calendar=make_calendar(is_24x7=True, time_zone="Europe/Berlin"))
    start = datetime(2025, 10, 1, 3, tzinfo=SHANGHAI)
    assert work.add_business_time(start, TWO_HOURS) == start + TWO_HOURS
    assert str(work.add_business_time(start, TWO_HOURS).tzinfo) == "Europe/Berlin"


@pytest.mark.parametrize(
    "hours",
    [
        {"day_start": time(18), "day_end": time(9)},
        {"lunch_start": time(12)},
        {"lunch_start": time(8), "lunch_end": time(10)},
        {"lunch_start": time(13), "lunch_end": time(12)},
    ],
)
def test_inconsistent_hours_are_refused_by_validation_and_database(hours: dict[str, time]) -> None:
    calendar = BusinessCalendar(name="坏日历", **hours)
    with pytest.raises(ValidationError):
        calendar.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        calendar.save()


def test_unknown_time_zone_is_refused_in_the_users_language() -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="不是已知时区"):
        BusinessCalendar(name="火星", time_zone="Mars/Olympus").full_clean()
    with translation.override("en"), pytest.raises(ValidationError, match="not a known time zone"):
        BusinessCalendar(name="火星", time_zone="Mars/Olympus").full_clean()


def test_one_override_per_calendar_and_date() -> None:
    calendar = make_calendar()
    override(calendar, date(2027, 2, 20), OverrideKind.WORKING_DAY)
    duplicate = CalendarOverride(calendar=calendar, date=date(2027, 2, 20), kind="holiday")
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    other = make_calendar(name="另一个日历")
    override(other, date(2027, 2, 20), OverrideKind.HOLIDAY)


def test_admin_shows_calendars_with_their_overrides(admin_client: Client) -> None:
    calendar = make_calendar()
    override(calendar, date(2027, 2, 20), OverrideKind.WORKING_DAY, "春节调休")
    with time_machine.travel(datetime(2025, 11, 20, 10, tzinfo=SHANGHAI), tick=False):
        page = admin_client.get(f"/admin/sla/businesscalendar/{calendar.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "春节调休" in content
    assert "2026" in content  # the official schedule is known up to 2026
    assert admin_client.get("/admin/sla/calendaroverride/").status_code == 200
    assert admin_client.get("/admin/sla/businesscalendar/add/").status_code == 200
