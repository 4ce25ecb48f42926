"""Open tickets living through changes that move their deadlines: calendar overrides (next
year's holidays and 调休 entered late), working hours and lunch breaks, 24×7, policy edits,
and a ticket's own priority or module. Deadlines are hand-computed on the Chinese calendar."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from opsdesk.accounts.models import User
from opsdesk.runtime import config
from opsdesk.sla import calendars
from opsdesk.sla import services as sla
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, Clock, Notice, SlaPolicy
from opsdesk.sla.selectors import get_work_calendar
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.conftest import Api
from tests.factories import PLANS, fields_for
from tests.sla.filing import complete

SH = ZoneInfo("Asia/Shanghai")
WORKDAYS = "工作日 09:00–18:00"  # the calendar the default policies use


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def file(api: Api, **fields: Any) -> int:
    body = complete(**{
        "title": "支付回调超时", "impact": "few_users", "urgency": "normal", **fields,
    })
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return int(response.json()["key"].split("-")[1])


def filed_for(api: dict[str, Api], people: dict[str, User], priority: str, **fields: Any) -> int:
    """A ticket the duty engineer files for the submitter with ``priority``."""
    return file(api["duty"], priority=priority, submitter=people["submitter"].username, **fields)


def acknowledged(api: dict[str, Api], people: dict[str, User], ticket_id: int) -> int:
    """The ticket triaged to the module owner, who acknowledges it: its response clock stops,
    so that its next threshold is the resolution clock's."""
    act(api["duty"], ticket_id, "triage", people)
    act(api["owner"], ticket_id, "acknowledge", people)
    return ticket_id


def clock(ticket_id: int) -> Clock:
    return Clock.objects.select_related("policy").get(ticket_id=ticket_id)


def workdays() -> BusinessCalendar:
    return BusinessCalendar.objects.get(name=WORKDAYS)


def policy(name_start: str) -> SlaPolicy:
    return SlaPolicy.objects.get(name__startswith=name_start)


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def recomputed(ticket_id: int) -> list[dict[str, Any]]:
    events = TimelineEvent.objects.filter(ticket_id=ticket_id, kind="sla").order_by("id")
    return [e.data for e in events if e.data["event"] == "recomputed"]


def timers(ticket_id: int) -> list[datetime]:
    rows = DBTaskResult.objects.filter(task_path__endswith="check_ticket_sla",
                                       args_kwargs__args=[ticket_id])
    return sorted(rows.values_list("run_after", flat=True))


def act(api: Api, ticket_id: int, action: str, people: dict[str, User], **fields: Any) -> None:
    values = PLANS["service_restart"] if action == "propose_plan" else fields_for(action, people)
    response = api.act(f"OPS-{ticket_id}", action, **{**values, **fields,
    })
    assert response.status_code == 200, response.json()
    if response.json()["status"] == "awaiting_approval":  # when the plan's risk asks for it
        approved = Api(people["head"]).act(f"OPS-{ticket_id}", "approve")
        assert approved.status_code == 200, approved.json()


def test_a_holiday_entered_late_moves_an_open_low_ticket(api, people):
    # Thursday 2026-12-24: 10 business days are 12-25, 28–31, 2027-01-04…08 (01-01 is New
    # Year's Day, from the fallback library): due Friday 01-08 10:00.
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        ticket = acknowledged(api, people, filed_for(api, people, "low"))
    assert clock(ticket).resolution_due_at == at(2027, 1, 8, 10, 0)
    assert clock(ticket).warn_at == at(2027, 1, 5, 14, 30)  # 7.5 working days

    with time_machine.travel(at(2026, 12, 28, 9, 0), tick=False):
        moved = sla.set_override(calendar=workdays(), day=date(2027, 1, 4), kind="holiday",
                                 note="2027 元旦调休")
    assert moved == 1
    moved_clock = clock(ticket)
    assert moved_clock.resolution_due_at == at(2027, 1, 11, 10, 0)
    assert moved_clock.warn_at == at(2027, 1, 6, 14, 30)
    assert moved_clock.next_check_at == at(2027, 1, 6, 14, 30)
    assert at(2027, 1, 6, 14, 30) in timers(ticket)  # the warning's timer follows it
    [event] = recomputed(ticket)
    assert event["reason"] == "calendar_changed" and event["calendar"] == WORKDAYS
    assert moment(event["previous"]["resolution_due_at"]) == at(2027, 1, 8, 10, 0)
    assert moment(event["resolution_due_at"]) == at(2027, 1, 11, 10, 0)
    assert event["resolution_target"] == {"amount": "10", "unit": "business_days"}


def test_removing_the_holiday_moves_it_back(api, people):
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        ticket = filed_for(api, people, "low")
        sla.set_override(calendar=workdays(), day=date(2027, 1, 4), kind="holiday")
        assert sla.remove_override(calendar=workdays(), day=date(2027, 1, 4)) == 1
    assert clock(ticket).resolution_due_at == at(2027, 1, 8, 10, 0)
    assert not CalendarOverride.objects.exists()


@pytest.fixture
def forget_calendars() -> Iterator[Callable[[], None]]:
    """Drop the calendars this process built (as the restart after a library upgrade does),
    and again afterwards, so that no other test counts by the upgraded library."""
    def forget() -> None:
        calendars.work_calendar.cache_clear()
        config.clear()

    yield forget
    forget()


def test_a_calendar_library_upgrade_is_followed_by_recounting_the_deadlines(
    api, people, monkeypatch, forget_calendars
):
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        ticket = acknowledged(api, people, filed_for(api, people, "low"))
    assert clock(ticket).resolution_due_at == at(2027, 1, 8, 10, 0)

    # The upgraded library knows 2027's schedule: Monday 01-04 is a rest day.
    known = calendars.statutory_working_days

    def upgraded(year: int) -> bytes:
        flags = bytearray(known(year))
        if year == 2027:
            flags[3] = 0
        return bytes(flags)

    monkeypatch.setattr(calendars, "statutory_working_days", upgraded)
    forget_calendars()
    with time_machine.travel(at(2026, 12, 28, 9, 0), tick=False):
        call_command("recount_deadlines", dry_run=True, stdout=(said := io.StringIO()))
        assert f"{WORKDAYS}: would move the deadlines of 1 open ticket(s)." in said.getvalue()
        assert clock(ticket).resolution_due_at == at(2027, 1, 8, 10, 0)

        call_command("recount_deadlines", calendar=WORKDAYS, stdout=(said := io.StringIO()))

    assert f"{WORKDAYS}: moved the deadlines of 1 open ticket(s)." in said.getvalue()
    assert clock(ticket).resolution_due_at == at(2027, 1, 11, 10, 0)
    [event] = recomputed(ticket)
    assert moment(event["previous"]["resolution_due_at"]) == at(2027, 1, 8, 10, 0)


@pytest.mark.django_db
def test_recounting_a_calendar_that_does_not_exist_is_refused():
    with pytest.raises(CommandError, match="No calendar named"):
        call_command("recount_deadlines", calendar="没有这个日历")


# The worker closes its database connection when a batch ends: outside a test transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_extra_working_day_brings_the_warning_forward_and_the_worker_fires_it_then(
    api, people, django_capture_on_commit_callbacks
):
    # Monday 2027-03-01 10:00, low: the warning (7.5 working days) falls on Wednesday 03-10
    # 14:30, the deadline on Monday 03-15 10:00.
    with time_machine.travel(at(2027, 3, 1, 10, 0), tick=False) as travel:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = acknowledged(api, people, filed_for(api, people, "low"))
        assert (clock(ticket).warn_at, clock(ticket).resolution_due_at) == (
            at(2027, 3, 10, 14, 30), at(2027, 3, 15, 10, 0))
        travel.move_to(at(2027, 3, 2, 11, 0))
        # Saturday 03-06 made a working day: one working day earlier for both.
        with django_capture_on_commit_callbacks(execute=True):
            assert sla.set_override(calendar=workdays(), day=date(2027, 3, 6),
                                    kind="working_day", note="调休") == 1
        assert (clock(ticket).warn_at, clock(ticket).resolution_due_at) == (
            at(2027, 3, 9, 14, 30), at(2027, 3, 12, 10, 0))
        travel.move_to(at(2027, 3, 9, 14, 29))
        call_command("worker", batch=True)
        assert not Notice.objects.filter(ticket_id=ticket, clock="resolution").exists()
        travel.move_to(at(2027, 3, 9, 14, 30))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)  # the timer set by the override
        travel.move_to(at(2027, 3, 10, 14, 31))  # the timer set at filing finds nothing new
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)
    fired = Notice.objects.filter(ticket_id=ticket, clock="resolution")
    assert [(n.threshold, n.fired_at) for n in fired] == [("warning", at(2027, 3, 9, 14, 30))]


def test_a_lunch_break_stretches_a_target_in_hours_but_not_one_in_days(api, people):
    inspections = SlaPolicy.objects.create(
        name="巡检 · inspection", order=10, source_kind="inspection", response_amount=30,
        response_unit="minutes", resolution_amount=27, resolution_unit="hours",
        calendar=workdays())
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:  # Wednesday
        in_days = filed_for(api, people, "medium")
        in_hours = filed_for(api, people, "medium", source_kind="inspection")
        assert clock(in_hours).policy == inspections
        # 3 working days, and 27 hours of three 9-hour days: both Monday 10:00.
        assert clock(in_days).resolution_due_at == at(2026, 11, 23, 10, 0)
        assert clock(in_hours).resolution_due_at == at(2026, 11, 23, 10, 0)
        travel.move_to(at(2026, 11, 19, 9, 0))
        moved = sla.update_calendar(calendar=workdays(), lunch_start=time(12),
                                    lunch_end=time(13))
    assert moved == 1
    assert clock(in_days).resolution_due_at == at(2026, 11, 23, 10, 0)
    # Eight-hour days now: Wednesday 10–12 and 13–18 (7 h), Thursday 8, Friday 8, Monday 4.
    assert clock(in_hours).resolution_due_at == at(2026, 11, 23, 14, 0)
    assert [e["reason"] for e in recomputed(in_hours)] == ["calendar_changed"]
    assert recomputed(in_days) == []


def test_a_calendar_turned_24x7_counts_days_as_calendar_days(api, people):
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        ticket = filed_for(api, people, "medium")
        travel.move_to(at(2026, 11, 18, 15, 0))
        assert sla.update_calendar(calendar=workdays(), is_24x7=True) == 1
    assert clock(ticket).resolution_due_at == at(2026, 11, 21, 10, 0)  # Saturday


def test_a_policy_edit_reaches_a_ticket_awaiting_verification(api, people, payment):
    high = policy("高")
    sla.update_policy(policy=high, resolution_amount=Decimal(2))
    with time_machine.travel(at(2026, 12, 8, 10, 0), tick=False) as travel:  # Tuesday
        ticket = filed_for(api, people, "high", module="payment")
        for action in ("acknowledge", "classify", "propose_plan"):
            act(api["owner"], ticket, action, people)
        travel.move_to(at(2026, 12, 8, 12, 0))  # resolved after 2 business hours
        act(api["owner"], ticket, "resolve", people)
        travel.move_to(at(2026, 12, 8, 16, 0))
        assert sla.update_policy(policy=high, resolution_amount=Decimal(1)) == 1
        assert clock(ticket).resolution_days == 1
        travel.move_to(at(2026, 12, 9, 9, 0))
        act(api["submitter"], ticket, "reject_fix", people)
    # 7 of the day's 9 hours are left: 16:00, not the old two days' 12-10 16:00.
    assert clock(ticket).resolution_due_at == at(2026, 12, 9, 16, 0)
    [event] = recomputed(ticket)
    assert event["reason"] == "policy_changed"
    assert event["resolution_target"] == {"amount": "1", "unit": "business_days"}


def test_a_policy_edit_reaches_a_paused_ticket_which_resumes_on_the_new_target(
    api, people, payment
):
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        ticket = filed_for(api, people, "high", module="payment")
        act(api["owner"], ticket, "acknowledge", people)
        travel.move_to(at(2026, 11, 18, 13, 0))  # 3 h spent
        act(api["owner"], ticket, "classify", people)
        act(api["owner"], ticket, "propose_plan", people)
        act(api["owner"], ticket, "request_info", people)
        assert clock(ticket).resolution_due_at is None  # paused
        travel.move_to(at(2026, 11, 18, 15, 0))
        assert sla.update_policy(policy=policy("高"), resolution_amount=Decimal(2)) == 1
        travel.move_to(at(2026, 11, 19, 9, 0))
        act(api["submitter"], ticket, "resume", people)
    # 2 days less 3 of the first 9 hours: Thursday 09:00 + 1⅔ days → Friday 15:00.
    assert clock(ticket).resolution_due_at == at(2026, 11, 20, 15, 0)


def test_disabling_a_policy_moves_its_tickets_to_the_next_that_matches(api, people, payment):
    fast = SlaPolicy.objects.create(
        name="支付 · payment", order=1, module=payment, response_amount=10,
        response_unit="minutes", resolution_amount=2, resolution_unit="hours")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        ticket = filed_for(api, people, "medium", module="payment")
        assert clock(ticket).policy == fast
        assert clock(ticket).resolution_due_at == at(2026, 11, 18, 12, 0)
        travel.move_to(at(2026, 11, 18, 11, 0))
        assert sla.update_policy(policy=fast, enabled=False) == 1
    assert clock(ticket).policy.name == "中 · medium"
    # 1 h spent around the clock is 1/9 of a working day: 2 8/9 days from 11:00 Wednesday.
    assert clock(ticket).resolution_due_at == at(2026, 11, 23, 10, 0)


def test_a_module_change_puts_the_ticket_under_the_modules_policy(api, people, payment):
    SlaPolicy.objects.create(
        name="支付 · payment", order=1, module=payment, response_amount=10,
        response_unit="minutes", resolution_amount=4, resolution_unit="hours")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        ticket = filed_for(api, people, "medium")
        assert clock(ticket).policy.name == "中 · medium"
        travel.move_to(at(2026, 11, 18, 11, 0))
        version = api["duty"].read(f"OPS-{ticket}")["version"]
        response = api["duty"].patch(f"/tickets/OPS-{ticket}",
                                     {"version": version, "fields": {"module": "payment"}})
        assert response.status_code == 200, response.json()
    assert clock(ticket).policy.name == "支付 · payment"
    # 1/9 of a working day spent is one hour of the four: three left, around the clock.
    assert clock(ticket).resolution_due_at == at(2026, 11, 18, 14, 0)


def test_a_preview_counts_without_changing_anything(api, people):
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        tickets = [filed_for(api, people, "low") for _ in range(3)]
        before = {t: clock(t).resolution_due_at for t in tickets}
        tasks = DBTaskResult.objects.count()
        events = TimelineEvent.objects.count()
        moved = sla.preview(lambda: sla.set_override(
            calendar=workdays(), day=date(2027, 1, 4), kind="holiday"))
        assert moved == 3
        assert {t: clock(t).resolution_due_at for t in tickets} == before
        assert not CalendarOverride.objects.exists()
        assert (DBTaskResult.objects.count(), TimelineEvent.objects.count()) == (tasks, events)
        # Nothing of the rolled-back override stays in the configuration cache either.
        assert get_work_calendar(calendar=workdays()).is_working_day(date(2027, 1, 4))


def test_closed_tickets_and_other_calendars_are_left_alone(api, people, payment):
    other = BusinessCalendar.objects.create(name="运维 · ops", day_start=time(8),
                                            day_end=time(20))
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        urgent = filed_for(api, people, "urgent", module="payment")  # around the clock
        closed = filed_for(api, people, "high", module="payment")
        for action in ("acknowledge", "classify", "propose_plan", "resolve"):
            act(api["owner"], closed, action, people)
        act(api["submitter"], closed, "confirm", people)
        kept = {t: Clock.objects.filter(ticket_id=t).values().get() for t in (urgent, closed)}
        assert sla.set_override(calendar=other, day=date(2026, 12, 25), kind="holiday") == 0
        assert sla.set_override(calendar=workdays(), day=date(2026, 12, 25), kind="holiday") == 0
    assert {t: Clock.objects.filter(ticket_id=t).values().get() for t in kept} == kept


def test_an_override_beyond_every_clocks_horizon_reads_none_of_them(api, people):
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        ticket = acknowledged(api, people, filed_for(api, people, "low"))
        # Its furthest threshold: +100%, 20 working days, the 10 to 01-08 and 10 more.
        assert clock(ticket).horizon_at == at(2027, 1, 22, 10, 0)
        with CaptureQueriesContext(connection) as queries:
            assert sla.set_override(calendar=workdays(), day=date(2027, 10, 8),
                                    kind="working_day", note="2027 国庆调休") == 0
        read = [q["sql"] for q in queries if 'FROM "sla_clock"' in q["sql"]]
        assert len(read) == 1  # which clocks count that far: none, so none is loaded
        # A holiday on that very day moves the +100% threshold but not the deadline.
        assert sla.set_override(calendar=workdays(), day=date(2027, 1, 22), kind="holiday") == 0
    assert clock(ticket).horizon_at == at(2027, 1, 25, 10, 0)
    assert clock(ticket).resolution_due_at == at(2027, 1, 8, 10, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_threshold_moved_later_keeps_its_timer_which_rings_early_and_sets_the_next(
    api, people, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False) as travel:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = acknowledged(api, people, filed_for(api, people, "low"))
        # The timer set at filing, for the response's warning, rings and sets the next.
        travel.move_to(at(2026, 12, 24, 11, 30))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)
        assert timers(ticket)[-1] == at(2027, 1, 5, 14, 30)
        travel.move_to(at(2026, 12, 28, 9, 0))
        with django_capture_on_commit_callbacks(execute=True):
            sla.set_override(calendar=workdays(), day=date(2027, 1, 4), kind="holiday")
        assert timers(ticket)[-1] == at(2027, 1, 5, 14, 30)  # no second timer
        travel.move_to(at(2027, 1, 5, 14, 30))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)
        assert not Notice.objects.filter(ticket_id=ticket, clock="resolution").exists()
        assert timers(ticket)[-1] == at(2027, 1, 6, 14, 30)
        travel.move_to(at(2027, 1, 6, 14, 30))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)
    fired = Notice.objects.filter(ticket_id=ticket, clock="resolution")
    assert [(n.threshold, n.fired_at) for n in fired] == [("warning", at(2027, 1, 6, 14, 30))]


def test_a_closed_ticket_reopened_runs_on_the_policy_as_edited_since(api, people, payment):
    with time_machine.travel(at(2026, 12, 8, 10, 0), tick=False) as travel:  # Tuesday, high
        ticket_id = filed_for(api, people, "high", module="payment")
        for action in ("acknowledge", "classify", "propose_plan"):
            act(api["owner"], ticket_id, action, people)
        travel.move_to(at(2026, 12, 8, 12, 0))  # resolved after 2 business hours
        act(api["owner"], ticket_id, "resolve", people)
        act(api["submitter"], ticket_id, "confirm", people)
        # Closed tickets are left out of policy edits...
        assert sla.update_policy(policy=policy("高"), resolution_amount=Decimal(2)) == 0
        travel.move_to(at(2026, 12, 9, 9, 0))
        ticket = Ticket.objects.get(pk=ticket_id)
        ticket.status = Status.IN_PROGRESS
        with transaction.atomic():  # ...until one is reopened, as the workflow hook says
            sla.on_ticket_change(TicketChange(ticket, people["owner"], "reopen", Status.CLOSED,
                                              Status.IN_PROGRESS, {}, at(2026, 12, 9, 9, 0)))
    # 2 days less 2 of the first 9 hours from Wednesday 09:00: Thursday 16:00.
    assert clock(ticket_id).resolution_due_at == at(2026, 12, 10, 16, 0)
    assert [e["reason"] for e in recomputed(ticket_id)] == ["policy_changed"]
