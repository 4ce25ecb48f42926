"""The yearly reminder that next year's official holiday schedule is missing from the calendar
library: once per year, to the administrators, in their language, with the holidays computed
in its place and the way to the calendars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify.models import Delivery
from opsdesk.runtime.periodic import default_jobs
from opsdesk.sla import services as sla
from opsdesk.sla.calendars import last_official_year
from opsdesk.sla.models import ScheduleReminder

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def admins(make_user: Any) -> dict[str, User]:
    return {
        "zh": make_user(Role.ADMIN, language="zh-hans", email="admin-zh@example.com"),
        "en": make_user(is_superuser=True, is_staff=True, language="en",
                        email="root@example.com"),
    }


def reminders(user: User) -> list[Delivery]:
    return list(Delivery.objects.filter(recipient=user, notification_kind="calendar_schedule"))


def test_the_library_knows_2026_and_not_2027() -> None:
    assert last_official_year(date(2026, 1, 1)) == 2026


def test_from_december_the_administrators_are_told_once(admins: dict[str, User],
                                                        people: dict[str, User]) -> None:
    with time_machine.travel(datetime(2026, 11, 30, 23, 0, tzinfo=SH), tick=False):
        assert sla.remind_missing_schedule() == []
    with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=SH), tick=False):
        [job] = [job for job in default_jobs() if job.name == "sla-schedule-reminder"]
        job.run()
        assert sla.remind_missing_schedule() == []  # the next day's run, and a second worker
    assert ScheduleReminder.objects.get().year == 2027

    [english] = reminders(admins["en"])
    assert english.subject == "Enter the official holidays of 2027 in the business calendars"
    assert "does not know the official schedule of 2027 yet" in english.body
    assert "2027-02-06 Chinese New Year (Spring Festival)" in english.body
    assert "2027-10-01 National Day" in english.body
    assert "http://127.0.0.1:8000/manage/sla/" in english.body
    [chinese] = reminders(admins["zh"])
    assert "2027-02-06 春节" in chinese.body and "2027-10-01 国庆节" in chinese.body
    # Nobody else: the duty engineer, the head and the rest are not administrators.
    assert not Delivery.objects.exclude(recipient__in=admins.values()).filter(
        notification_kind="calendar_schedule").exists()


def test_a_year_already_running_without_its_schedule_is_reminded_at_once(
    admins: dict[str, User]
) -> None:
    with time_machine.travel(datetime(2027, 3, 1, 9, 0, tzinfo=SH), tick=False):
        assert sla.remind_missing_schedule() == [2027]
    with time_machine.travel(datetime(2027, 12, 2, 9, 0, tzinfo=SH), tick=False):
        assert sla.remind_missing_schedule() == [2028]  # 2027 was told already
    assert [r.year for r in ScheduleReminder.objects.order_by("year")] == [2027, 2028]
    assert len(reminders(admins["en"])) == 2


def test_a_known_year_needs_no_reminder(admins: dict[str, User]) -> None:
    with time_machine.travel(datetime(2025, 12, 15, 9, 0, tzinfo=SH), tick=False):
        assert sla.remind_missing_schedule() == []  # 2026 is in the library
    assert not ScheduleReminder.objects.exists()
