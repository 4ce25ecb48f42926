"""In the admin, a change that would move open tickets' deadlines says how many first, and is
made only once confirmed; targets are entered and listed with their units."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opsdesk.accounts.models import User
from opsdesk.sla import services as sla
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, Clock, SlaPolicy
from opsdesk.tickets.models import TimelineEvent
from tests.conftest import Api
from tests.sla.filing import complete

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 24, 10, 0, tzinfo=SH)
WRITE_LOCK_NOTE = ("keeps everyone else from saving anything while it runs (a few seconds with "
                   "many open tickets)")


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    """An administrator reading English (the assertions are on the English texts)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(NOW, tick=False):  # sessions expire: signed in when it is used
        client.force_login(admin_user)
    return client


@pytest.fixture
def open_low_tickets(api: dict[str, Api], people: dict[str, User]) -> list[int]:
    with time_machine.travel(NOW, tick=False):
        keys = [api["duty"].post("/tickets", complete(
            title="报表导出乱码", impact="few_users", urgency="normal", priority="low",
            submitter=people["submitter"].username,
        )).json()["key"] for _ in range(2)]
    return [int(key.split("-")[1]) for key in keys]


def due_times(ticket_ids: list[int]) -> list[datetime | None]:
    return [Clock.objects.get(ticket_id=t).resolution_due_at for t in ticket_ids]


def calendar_form(calendar: BusinessCalendar, **changes: Any) -> dict[str, Any]:
    """The calendar's change form as the admin posts it, with one new override row."""
    form = {
        "name": calendar.name, "time_zone": calendar.time_zone, "day_start": "09:00:00",
        "day_end": "18:00:00", "lunch_start": "", "lunch_end": "",
        "use_statutory_holidays": "on",
        "overrides-TOTAL_FORMS": "1", "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0", "overrides-MAX_NUM_FORMS": "1000",
        "overrides-0-date": "2027-01-04", "overrides-0-kind": "holiday",
        "overrides-0-note": "2027 元旦调休", "_save": "Save",
    }
    return {**form, **changes}


def test_saving_an_override_asks_first_then_moves_the_deadlines(
    admin_client: Client, open_low_tickets: list[int]
) -> None:
    calendar = BusinessCalendar.objects.get()
    url = f"/admin/sla/businesscalendar/{calendar.pk}/change/"
    with time_machine.travel(NOW, tick=False):
        asked = admin_client.post(url, calendar_form(calendar))
        assert asked.status_code == 200
        page = asked.content.decode()
        assert "Saving this moves the deadlines of 2 open tickets." in page
        assert 'name="overrides-0-note" value="2027 元旦调休"' in page  # posted again on confirm
        assert not CalendarOverride.objects.exists()
        assert due_times(open_low_tickets) == [datetime(2027, 1, 8, 10, 0, tzinfo=SH)] * 2

        done = admin_client.post(url, {**calendar_form(calendar), "_sla_confirmed": "1"})
    assert done.status_code == 302
    assert CalendarOverride.objects.get().date == date(2027, 1, 4)
    assert due_times(open_low_tickets) == [datetime(2027, 1, 11, 10, 0, tzinfo=SH)] * 2
    assert TimelineEvent.objects.filter(kind="sla", data__event="recomputed").count() == 2
    messages = [str(m) for m in admin_client.get("/admin/").context["messages"]]
    assert "The deadlines of 2 open tickets moved." in messages


def test_a_change_that_moves_nothing_is_saved_at_once(admin_client: Client) -> None:
    calendar = BusinessCalendar.objects.get()
    response = admin_client.post(f"/admin/sla/businesscalendar/{calendar.pk}/change/",
                                 calendar_form(calendar))
    assert response.status_code == 302
    assert CalendarOverride.objects.count() == 1


def test_a_policy_edit_asks_first(admin_client: Client, open_low_tickets: list[int]) -> None:
    low = SlaPolicy.objects.get(name__startswith="低")
    url = f"/admin/sla/slapolicy/{low.pk}/change/"
    with time_machine.travel(NOW, tick=False):
        page = admin_client.get(url).content.decode()
        assert 'name="resolution_amount" value="10.00"' in page
        assert WRITE_LOCK_NOTE in page
        assert '<option value="business_days" selected>' in page
        form = {
            "name": low.name, "order": low.order, "enabled": "on", "priority": "4",
            "source_kind": "", "module": "", "response_amount": "2", "response_unit": "hours",
            "resolution_amount": "5", "resolution_unit": "business_days",
            "calendar": low.calendar_id, "warning_fraction": "0.75", "_save": "Save",
        }
        asked = admin_client.post(url, form).content.decode()
        assert "Saving this moves the deadlines of 2 open tickets." in asked
        assert WRITE_LOCK_NOTE in asked
        low.refresh_from_db()
        assert low.resolution_amount == 10
        assert admin_client.post(url, {**form, "_sla_confirmed": "1"}).status_code == 302
    low.refresh_from_db()
    assert str(low.resolution) == "5 business days"
    assert due_times(open_low_tickets) == [datetime(2026, 12, 31, 10, 0, tzinfo=SH)] * 2


def test_the_policy_list_shows_targets_as_entered(admin_client: Client) -> None:
    page = admin_client.get("/admin/sla/slapolicy/").content.decode()
    for target in ("15 minutes", "4 hours", "1 business day", "3 business days",
                   "10 business days", "2 hours"):
        assert target in page


def test_deleting_an_override_counts_the_deadlines_it_moves_when_asked(
    admin_client: Client, open_low_tickets: list[int]
) -> None:
    calendar = BusinessCalendar.objects.get()
    with time_machine.travel(NOW, tick=False):
        sla.set_override(calendar=calendar, day=date(2027, 1, 4), kind="holiday")
        override = CalendarOverride.objects.get()
        url = f"/admin/sla/calendaroverride/{override.pk}/delete/"
        with CaptureQueriesContext(connection) as viewing:
            page = admin_client.get(url).content.decode()
        # Viewing the page counts nothing: counting holds the write lock for seconds.
        assert not [q for q in viewing.captured_queries if "sla_clock" in q["sql"]]
        assert "Deleting this may move the deadlines of open tickets." in page
        assert 'name="_sla_preview"' in page and WRITE_LOCK_NOTE in page

        counted = admin_client.post(url, {"_sla_preview": "Count them"})
        assert counted.status_code == 200
        assert "Deleting this moves the deadlines of 2 open tickets." in counted.content.decode()
        assert CalendarOverride.objects.exists()
        assert due_times(open_low_tickets) == [datetime(2027, 1, 11, 10, 0, tzinfo=SH)] * 2

        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not CalendarOverride.objects.exists()
    assert due_times(open_low_tickets) == [datetime(2027, 1, 8, 10, 0, tzinfo=SH)] * 2


def test_deleting_what_moves_no_deadline_says_so_when_counted(admin_client: Client) -> None:
    calendar = BusinessCalendar.objects.get()
    sla.set_override(calendar=calendar, day=date(2027, 1, 4), kind="holiday")
    url = f"/admin/sla/calendaroverride/{CalendarOverride.objects.get().pk}/delete/"
    counted = admin_client.post(url, {"_sla_preview": "Count them"}).content.decode()
    assert "Deleting this moves no deadline of an open ticket." in counted
    assert CalendarOverride.objects.exists()
