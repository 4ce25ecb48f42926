"""The SLA pages (/manage/sla/): policies with targets in minutes, hours and business days,
each calendar's year with its holidays, 调休 and overrides, and changes that move open tickets'
deadlines made only once the administrator has read how many."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.utils import translation

from opsdesk.accounts.roles import Role
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, Clock, SlaPolicy
from opsdesk.sla.targets import Target
from tests.sla.filing import complete
from tests.web.conftest import text

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 24, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _christmas_eve():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, display_name="管理员")


@pytest.fixture
def open_low_tickets(api, people):
    keys = [api["duty"].post("/tickets", complete(
        title="报表导出乱码", impact="few_users", urgency="normal", priority="low",
        submitter=people["submitter"].username)).json()["key"] for _ in range(2)]
    return [int(key.split("-")[1]) for key in keys]


def due_times(ticket_ids):
    return [Clock.objects.get(ticket_id=t).resolution_due_at for t in ticket_ids]


def low():
    return SlaPolicy.objects.get(priority=4)


def policy_form(policy, **changes):
    form = {"name": policy.name, "order": policy.order, "enabled": "on",
            "priority": policy.priority or "", "source_kind": policy.source_kind,
            "module": "", "response_amount": f"{policy.response_amount.normalize():f}",
            "response_unit": policy.response_unit,
            "resolution_amount": f"{policy.resolution_amount.normalize():f}",
            "resolution_unit": policy.resolution_unit,
            "calendar": policy.calendar_id or "", "warn_percent": "75"}
    return {**form, **changes}


def test_only_administrators_open_the_sla_pages(people, browser_as):
    calendar = BusinessCalendar.objects.get()
    for who in ("duty", "head", "submitter"):
        client = browser_as(people[who])
        for page in ("/manage/sla/", "/manage/sla/policies/new/",
                     f"/manage/sla/policies/{low().pk}/", f"/manage/sla/calendars/{calendar.pk}/"):
            assert client.get(page).status_code == 403
        assert client.post(f"/manage/sla/policies/{low().pk}/delete").status_code == 403
        assert client.post(f"/manage/sla/calendars/{calendar.pk}/days",
                           {"day": "2027-01-04", "kind": "holiday"}).status_code == 403
    assert not CalendarOverride.objects.exists() and SlaPolicy.objects.count() == 4


@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", ["15 分钟", "10 个工作日", "4 小时"]),
    ("en", ["15 minutes", "10 business days", "4 hours"])])
def test_targets_read_in_their_units(admin, browser_as, language, words):
    page = text(browser_as(admin, language).get("/manage/sla/"))
    assert all(word in page for word in words), words
    assert "day, " not in page and ":00:00" not in page


def test_a_change_moving_deadlines_says_how_many_and_waits_for_confirmation(
        admin, browser_as, open_low_tickets):
    client, policy = browser_as(admin, "en"), low()
    before = due_times(open_low_tickets)
    form = policy_form(policy, resolution_amount="5")
    asked = client.post(f"/manage/sla/policies/{policy.pk}/", form)
    assert asked.status_code == 200
    assert "This change moves the deadlines of 2 open tickets" in text(asked)
    assert due_times(open_low_tickets) == before and not LogEntry.objects.exists()
    assert low().resolution_amount == 10
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', text(asked)))
    assert hidden["resolution_amount"] == "5" and hidden["confirmed"] == "1"
    done = client.post(f"/manage/sla/policies/{policy.pk}/", {**form, "confirmed": "1"})
    assert done.status_code == 302 and done.url == "/manage/sla/"
    assert low().resolution_amount == 5
    after = due_times(open_low_tickets)
    assert all(a < b for a, b in zip(after, before, strict=True))
    entry = LogEntry.objects.get(object_id=str(policy.pk))
    assert entry.action_flag == CHANGE and entry.user == admin
    assert "The deadlines of 2 open tickets moved." in text(client.get("/manage/sla/"))


def test_a_change_moving_nothing_is_made_at_once(admin, browser_as):
    client, policy = browser_as(admin, "en"), low()
    done = client.post(f"/manage/sla/policies/{policy.pk}/",
                       policy_form(policy, response_amount="3", response_unit="hours"))
    assert done.status_code == 302
    assert str(low().response) == "3 hours"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_resolution_shorter_than_the_response_is_refused_in_words(
        admin, browser_as, language):
    policy = low()
    response = browser_as(admin, language).post(f"/manage/sla/policies/{policy.pk}/",
                                                policy_form(policy, resolution_amount="1",
                                                            resolution_unit="minutes"))
    assert response.status_code == 422
    with translation.override(language):
        expected = translation.gettext(
            "The resolution target (%(resolution)s) is shorter than the response target "
            "(%(response)s): a ticket would be due to be solved before it is due an answer.") % {
                "resolution": Target(Decimal(1), "minutes"),
                "response": Target(Decimal(2), "hours")}
    assert expected in text(response)
    assert low().resolution_amount == 10


def test_a_warning_out_of_range_and_a_new_policy(admin, browser_as):
    client = browser_as(admin)
    refused = client.post("/manage/sla/policies/new/", policy_form(
        low(), name="支付告警", warn_percent="100", source_kind="alert", priority=""))
    assert refused.status_code == 422 and "99" in text(refused)
    made = client.post("/manage/sla/policies/new/", policy_form(
        low(), name="支付告警", order="5", source_kind="alert", priority="",
        response_amount="0.5", response_unit="hours", resolution_amount="1",
        resolution_unit="business_days", warn_percent="50"))
    assert made.status_code == 302
    policy = SlaPolicy.objects.get(name="支付告警")
    assert policy.warning_fraction == 0.5 and policy.source_kind == "alert"
    assert LogEntry.objects.get(object_id=str(policy.pk)).action_flag == ADDITION


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_year_view_shows_holidays_make_up_days_and_overrides(admin, browser_as, language):
    calendar = BusinessCalendar.objects.get()
    CalendarOverride.objects.create(calendar=calendar, date="2026-12-31", kind="holiday",
                                    note="年终盘点")
    page = text(browser_as(admin, language).get(
        f"/manage/sla/calendars/{calendar.pk}/?year=2026"))
    assert 'class="day holiday" href="?year=2026&amp;day=2026-10-01#day"' in page
    assert 'class="day makeup" href="?year=2026&amp;day=2026-10-10#day"' in page
    assert 'class="day weekend" href="?year=2026&amp;day=2026-10-11#day"' in page
    assert 'class="day extra_holiday" href="?year=2026&amp;day=2026-12-31#day"' in page
    assert "年终盘点" in page
    with translation.override(language):
        assert translation.gettext("January") in page
        assert translation.gettext("make-up working day (调休)") in page
    later = text(browser_as(admin, language).get(
        f"/manage/sla/calendars/{calendar.pk}/?year=2027"))
    with translation.override(language):
        warning = translation.gettext(
            "The official schedule of %(year)s is not known yet: its holidays are computed, and "
            "its make-up working days (调休) must be entered below once the State Council "
            "publishes them.") % {"year": 2027}
    assert warning in later


def test_an_extra_holiday_moves_deadlines_once_confirmed_and_can_be_cleared(
        admin, browser_as, open_low_tickets):
    client, calendar = browser_as(admin, "en"), BusinessCalendar.objects.get()
    url = f"/manage/sla/calendars/{calendar.pk}/days?year=2027"
    before = due_times(open_low_tickets)
    day = {"day": "2027-01-04", "kind": "holiday", "note": "2027 元旦调休"}
    asked = client.post(url, day)
    assert "This change moves the deadlines of 2 open tickets" in text(asked)
    assert not CalendarOverride.objects.exists()
    done = client.post(url, {**day, "confirmed": "1"})
    assert done.status_code == 302 and done.url == f"/manage/sla/calendars/{calendar.pk}/?year=2027"
    override = CalendarOverride.objects.get()
    assert override.kind == "holiday" and override.note == "2027 元旦调休"
    assert all(a > b for a, b in zip(due_times(open_low_tickets), before, strict=True))
    assert LogEntry.objects.get(object_id=str(override.pk)).action_flag == ADDITION
    client.post(url, {"day": "2027-01-04", "kind": "", "confirmed": "1"})
    assert not CalendarOverride.objects.exists()
    assert due_times(open_low_tickets) == before
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 1


def test_a_day_without_a_date_is_refused_in_chinese(admin, browser_as):
    calendar = BusinessCalendar.objects.get()
    response = browser_as(admin).post(f"/manage/sla/calendars/{calendar.pk}/days",
                                      {"kind": "holiday"})
    assert response.status_code == 422 and "此字段为必填项。" in text(response)


def test_removing_a_policy(admin, browser_as):
    client = browser_as(admin, "en")
    policy = low()
    assert client.post(f"/manage/sla/policies/{policy.pk}/delete").status_code == 302
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()
    assert LogEntry.objects.get(object_id=str(policy.pk)).action_flag == DELETION


def test_picking_an_override_shows_what_it_is(admin, browser_as):
    calendar = BusinessCalendar.objects.get()
    CalendarOverride.objects.create(calendar=calendar, date="2027-02-20", kind="working_day",
                                    note="春节调休")
    page = text(browser_as(admin, "en").get(
        f"/manage/sla/calendars/{calendar.pk}/?year=2027&day=2027-02-20"))
    assert 'value="2027-02-20"' in page and 'value="春节调休"' in page
    assert re.search(r'value="working_day"[^>]*checked', page)


def hours_form(**changes):
    return {"time_zone": "Asia/Shanghai", "day_start": "09:00", "day_end": "18:00",
            "lunch_start": "", "lunch_end": "", "use_statutory_holidays": "on", **changes}


def test_a_lunch_break_moves_nothing_and_holidays_off_move_deadlines_once_confirmed(
        admin, browser_as, open_low_tickets):
    client, calendar = browser_as(admin, "en"), BusinessCalendar.objects.get()
    url = f"/manage/sla/calendars/{calendar.pk}/hours?year=2026"
    before = due_times(open_low_tickets)
    # Their targets are in business days, however long each one is: made at once.
    lunch = client.post(url, hours_form(lunch_start="12:00", lunch_end="13:00"))
    assert lunch.status_code == 302
    calendar.refresh_from_db()
    assert calendar.lunch_start.hour == 12 and due_times(open_low_tickets) == before
    # Without public holidays, New Year's Day 2027 is worked: the deadlines come earlier.
    weekdays = hours_form(lunch_start="12:00", lunch_end="13:00", use_statutory_holidays="")
    asked = client.post(url, weekdays)
    assert "This change moves the deadlines of 2 open tickets" in text(asked)
    calendar.refresh_from_db()
    assert calendar.use_statutory_holidays
    assert client.post(url, {**weekdays, "confirmed": "1"}).status_code == 302
    calendar.refresh_from_db()
    assert not calendar.use_statutory_holidays
    assert all(a < b for a, b in zip(due_times(open_low_tickets), before, strict=True))
    assert [e.get_change_message() for e in LogEntry.objects.order_by("pk")] == [
        "Changed lunch break starts and lunch break ends.",
        "Changed Chinese statutory holidays."]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_working_day_ending_before_it_starts_is_refused_in_words(
        admin, browser_as, language):
    calendar = BusinessCalendar.objects.get()
    response = browser_as(admin, language).post(
        f"/manage/sla/calendars/{calendar.pk}/hours?year=2026",
        hours_form(day_start="18:00", day_end="09:00"))
    assert response.status_code == 422
    with translation.override(language):
        assert translation.gettext("The working day must start before it ends.") in \
            text(response)
    assert "sla_calendar_day_start_before_end" not in text(response)
    calendar.refresh_from_db()
    assert calendar.day_start.hour == 9
