"""What the worker follows up on its own (tickets/follow_ups.py): a fix waiting for verification
is reminded once a working day of the ticket's SLA calendar, then closed with a note; a ticket
past its deadline has its assignee asked for a progress update, once per moment that passed;
the update is recorded. Run twice, or after a crash, nothing is sent twice."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.utils import translation

from opsdesk.runtime.periodic import default_jobs
from opsdesk.tickets import follow_ups
from opsdesk.tickets.choices import Status
from opsdesk.tickets.follow_ups import follow_up
from opsdesk.tickets.hooks import TicketChange, _after_change
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.web.timeline import entry
from tests.factories import ticket_in

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a working week with no holiday


@pytest.fixture
def changes():
    heard: list[TicketChange] = []
    _after_change.append(heard.append)
    yield heard
    _after_change.remove(heard.append)


def actions(ticket: Ticket, *names: str) -> list[dict]:
    return [e.data for e in TimelineEvent.objects.filter(ticket=ticket).order_by("id")
            if e.data.get("action") in names and e.kind != "sla"]


def run_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return follow_up()


def waiting_for_verification(people) -> Ticket:
    """A high-priority fix (a working-day calendar) sent for verification on Monday 10:00."""
    with time_machine.travel(MONDAY, tick=False):
        return ticket_in(Status.AWAITING_VERIFICATION, people=people)


def test_the_worker_runs_the_follow_ups():
    assert "ticket-follow-ups" in [job.name for job in default_jobs()]


def test_a_fix_waiting_is_reminded_each_working_day_then_closed_with_a_note(people, changes,
                                                                              settings):
    settings.OPSDESK_VERIFICATION_DAYS = 3
    ticket = waiting_for_verification(people)

    assert run_at(MONDAY + timedelta(hours=8)) == 0  # not a working day yet
    assert run_at(MONDAY + timedelta(days=1, minutes=1)) == 1  # Tuesday 10:01
    assert run_at(MONDAY + timedelta(days=1, hours=3)) == 0  # once that day
    assert run_at(MONDAY + timedelta(days=2, minutes=1)) == 1  # Wednesday
    reminders = actions(ticket, "remind_verification")
    assert [(r["reminder"], r["reminders"]) for r in reminders] == [(1, 2), (2, 2)]
    closes_at = datetime.fromisoformat(reminders[0]["closes_at"])
    assert closes_at == MONDAY + timedelta(days=3)  # Thursday 10:00
    assert [c.actor for c in changes if c.action == "remind_verification"] == [None, None]

    assert run_at(closes_at - timedelta(minutes=1)) == 0
    with translation.override("zh-hans"):  # the worker's language is not the reader's
        assert run_at(closes_at + timedelta(minutes=1)) == 1

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    [closed] = actions(ticket, "auto_close")
    assert (closed["working_days"], closed["reopen_days"]) == (3, 7)
    event = TimelineEvent.objects.filter(ticket=ticket, data__action="auto_close",
                                         kind="transition").get()
    assert event.actor is None
    with translation.override("en"):  # the note is said in the reader's language
        note = entry(event).text
    assert "3 working days" in note and "reopen it within 7 days" in note
    assert run_at(closes_at + timedelta(days=5)) == 0


def test_a_weekend_is_not_counted(people, settings):
    settings.OPSDESK_VERIFICATION_DAYS = 3
    with time_machine.travel(MONDAY + timedelta(days=4), tick=False):  # Friday 10:00
        ticket = ticket_in(Status.AWAITING_VERIFICATION, people=people)

    assert run_at(MONDAY + timedelta(days=6)) == 0  # Sunday
    assert run_at(MONDAY + timedelta(days=7, hours=1)) == 1  # Monday 11:00: one working day
    assert [r["reminder"] for r in actions(ticket, "remind_verification")] == [1]


def test_a_worker_back_after_days_sends_one_reminder_not_one_per_day_missed(people, settings):
    settings.OPSDESK_VERIFICATION_DAYS = 5
    ticket = waiting_for_verification(people)

    assert run_at(MONDAY + timedelta(days=3, minutes=1)) == 1  # Thursday: three days waited
    assert run_at(MONDAY + timedelta(days=3, minutes=2)) == 0
    assert [r["reminder"] for r in actions(ticket, "remind_verification")] == [3]


def test_the_submitters_answer_stops_the_follow_ups(api, people):
    ticket = waiting_for_verification(people)
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        api["submitter"].post(f"/tickets/{ticket.key}/verify",
                              {"version": ticket.version, "accepted": True})

    assert run_at(MONDAY + timedelta(days=10)) == 0
    assert actions(ticket, "remind_verification", "auto_close") == []


def test_more_fixes_waiting_than_a_run_takes_are_all_reminded(people, settings, monkeypatch):
    """The oldest fixes, already reminded today, never hold back newer ones that are due."""
    settings.OPSDESK_VERIFICATION_DAYS = 5
    monkeypatch.setattr(follow_ups, "BATCH", 2)
    older = [waiting_for_verification(people) for _ in range(3)]  # Monday 10:00
    with time_machine.travel(MONDAY + timedelta(hours=2), tick=False):
        newer = [ticket_in(Status.AWAITING_VERIFICATION, people=people) for _ in range(2)]

    tuesday = MONDAY + timedelta(days=1)
    assert run_at(tuesday + timedelta(minutes=1)) == 2  # a batch of the three due
    assert run_at(tuesday + timedelta(minutes=2)) == 1  # the third
    assert run_at(tuesday + timedelta(minutes=3)) == 0
    assert run_at(tuesday + timedelta(hours=2, minutes=1)) == 2  # the newer ones, due at 12:00
    for ticket in [*older, *newer]:
        assert [r["reminder"] for r in actions(ticket, "remind_verification")] == [1]


def test_a_run_reads_only_the_fixes_due_a_follow_up(people, settings, django_assert_num_queries):
    settings.OPSDESK_VERIFICATION_DAYS = 5
    for _ in range(3):
        waiting_for_verification(people)

    with django_assert_num_queries(1):
        assert follow_ups.follow_up_verifications(now=MONDAY + timedelta(hours=3)) == 0


def test_fixes_waiting_before_the_upgrade_are_followed_up(people, settings):
    settings.OPSDESK_VERIFICATION_DAYS = 5
    ticket = waiting_for_verification(people)
    Ticket.objects.filter(pk=ticket.pk).update(next_follow_up_at=None)  # as 0013 left it
    upgrade = importlib.import_module("opsdesk.tickets.migrations.0014_next_follow_up")

    upgrade.schedule_waiting_fixes(django_apps, None)

    # Due at once, the worker decides and keeps the next moment: Tuesday's reminder.
    assert run_at(MONDAY + timedelta(hours=3)) == 0
    ticket.refresh_from_db()
    assert ticket.next_follow_up_at == MONDAY + timedelta(days=1)
    assert run_at(MONDAY + timedelta(days=1, minutes=1)) == 1


# Progress after the deadline -----------------------------------------------------------------


def under_way(people, deadline: datetime) -> Ticket:
    """A ticket in progress since Monday morning, due at ``deadline``."""
    with time_machine.travel(MONDAY, tick=False):
        ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")
    Ticket.objects.filter(pk=ticket.pk).update(deadline_at=deadline)
    ticket.refresh_from_db()
    return ticket


def test_the_assignee_is_asked_for_progress_once_the_deadline_passes(api, people, changes):
    deadline = MONDAY + timedelta(hours=4)
    ticket = under_way(people, deadline)

    assert run_at(deadline - timedelta(minutes=1)) == 0
    assert run_at(deadline + timedelta(minutes=1)) == 1
    assert run_at(deadline + timedelta(hours=2)) == 0  # once for that deadline
    [asked] = actions(ticket, "request_progress")
    assert datetime.fromisoformat(asked["due"]) == deadline
    [change] = [c for c in changes if c.action == "request_progress"]
    assert change.actor is None and change.details["due"] == asked["due"]

    # The assignee says what comes next and by when; the submitter hears it (hooks).
    expected = deadline + timedelta(days=1)
    with time_machine.travel(deadline + timedelta(hours=3), tick=False):
        response = api["owner"].act(ticket.key, "progress_update",
                                    next_step="已定位到连接池配置，今晚 22:00 调整并观察",
                                    expected_completion_at=expected.isoformat())
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "in_progress"
    assert body["next_step"] == "已定位到连接池配置，今晚 22:00 调整并观察"
    assert datetime.fromisoformat(body["expected_completion_at"]) == expected
    [update] = [c for c in changes if c.action == "progress_update"]
    assert set(update.changed) == {"next_step", "expected_completion_at"}

    # When that time passes too, the assignee is asked again.
    assert run_at(expected - timedelta(minutes=1)) == 0
    assert run_at(expected + timedelta(minutes=1)) == 1
    assert [datetime.fromisoformat(a["due"]) for a in actions(ticket, "request_progress")] == [
        deadline, expected]


def test_without_a_deadline_the_sla_resolution_due_time_counts(people):
    with time_machine.travel(MONDAY, tick=False):
        ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")
    Ticket.objects.filter(pk=ticket.pk).update(deadline_at=None)
    due = ticket.sla_clock.resolution_due_at

    assert run_at(due - timedelta(minutes=1)) == 0
    assert run_at(due + timedelta(minutes=1)) == 1
    [asked] = actions(ticket, "request_progress")
    assert datetime.fromisoformat(asked["due"]) == due


def test_a_progress_update_needs_both_fields_and_a_future_time(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")

    missing = api["owner"].act(ticket.key, "progress_update", next_step="继续排查")
    assert missing.json()["details"]["missing"] == ["expected_completion_at"]
    past = api["owner"].act(ticket.key, "progress_update", next_step="继续排查",
                            expected_completion_at="2024-01-01T00:00:00+08:00")
    assert past.status_code == 422 and past.json()["details"]["field"] == (
        "expected_completion_at")
    others = api["support"].act(ticket.key, "progress_update", next_step="继续排查",
                                expected_completion_at="2099-01-01T00:00:00+08:00")
    assert others.status_code == 403
