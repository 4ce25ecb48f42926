"""A fix the submitter says did not work goes back to planning: the approved plan no longer
covers new steps, the next plan states the expected completion time and is approved again when
its risk needs it, and the department head hears of it when the failed plan needed approval or
the deadline has passed (walked through the API)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange, _after_change
from opsdesk.tickets.models import Ticket
from tests.factories import PLANS, fields_for, ticket_in

pytestmark = pytest.mark.django_db

LATER = "2099-01-01T12:00:00+08:00"


@pytest.fixture
def changes():
    """The ticket changes the hooks hear, in order."""
    heard: list[TicketChange] = []
    _after_change.append(heard.append)
    yield heard
    _after_change.remove(heard.append)


def far_deadline(api, key):
    """The deadline well ahead: only what the test is about can escalate."""
    version = api["owner"].read(key)["version"]
    response = api["owner"].patch(f"/tickets/{key}", {
        "version": version, "fields": {"deadline_at": "2099-01-01T00:00:00+08:00"}})
    assert response.status_code == 200, response.json()


def not_fixed(api, key, reason="下午三点仍然无法登录"):
    version = api["submitter"].read(key)["version"]
    return api["submitter"].post(f"/tickets/{key}/verify",
                                 {"version": version, "accepted": False, "reason": reason})


def test_not_fixed_goes_back_to_planning_and_the_old_approval_covers_nothing(api, people):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people).key

    rejected = not_fixed(api, key)

    assert rejected.status_code == 200, rejected.json()
    assert rejected.json()["status"] == "planning"
    step = api["owner"].post(f"/tickets/{key}/worklog",
                             {"command": "git revert 4f2a91c", "kind": "deploy",
                              "duration_minutes": 10})
    assert (step.status_code, step.json()["code"]) == (409, "approval_required")
    # The next plan says when it will be done.
    refused = api["owner"].act(key, "propose_plan", **PLANS["code_fix"])
    assert refused.status_code == 422
    assert refused.json()["details"]["missing"] == ["expected_completion_at"]
    replanned = api["owner"].act(key, "propose_plan", **PLANS["code_fix"],
                                 expected_completion_at=LATER)
    assert replanned.json()["status"] == "awaiting_approval"
    assert replanned.json()["current_plan"]["number"] == 2
    assert datetime.fromisoformat(replanned.json()["expected_completion_at"]) == (
        datetime.fromisoformat(LATER))
    # Approved again, the new plan's steps are taken.
    api["head"].act(key, "approve")
    step = api["owner"].post(f"/tickets/{key}/worklog",
                             {"command": "git revert 4f2a91c", "kind": "deploy",
                              "duration_minutes": 10})
    assert step.status_code == 201, step.json()
    assert step.json()["plan"] == 2


def test_a_failed_plan_that_needed_approval_is_escalated_to_the_head(api, people, changes):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people).key  # a code fix: approved
    far_deadline(api, key)

    rejected = not_fixed(api, key).json()

    assert rejected["escalated_at"] is not None
    event = [e for e in api["owner"].timeline(key) if e["kind"] == "verification"][-1]
    assert event["data"]["escalated"] == ["plan_needed_approval"]
    assert event["data"]["reason"] == "下午三点仍然无法登录"
    [change] = [c for c in changes if c.action == "reject_fix"]
    assert change.details["escalated"] == ["plan_needed_approval"]
    assert change.details["reason"] == "下午三点仍然无法登录"
    assert change.changed["escalated_at"]["to"] is not None


def test_a_failed_plan_past_its_deadline_is_escalated_too(api, people):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people, plan="service_restart").key
    deadline = datetime.fromisoformat(fields_for("classify", people)["deadline_at"])

    with time_machine.travel(max(deadline, timezone.now()) + timedelta(hours=1)):
        rejected = not_fixed(api, key).json()

    assert rejected["escalated_at"] is not None
    event = [e for e in api["owner"].timeline(key) if e["kind"] == "verification"][-1]
    assert event["data"]["escalated"] == ["deadline_passed"]


def test_a_failed_plan_without_risk_before_its_deadline_stays_with_the_assignee(api, people):
    ticket = ticket_in(Status.AWAITING_VERIFICATION, people=people, plan="service_restart")
    far_deadline(api, ticket.key)

    rejected = not_fixed(api, ticket.key).json()

    assert rejected["status"] == "planning" and rejected["escalated_at"] is None
    event = [e for e in api["owner"].timeline(ticket.key)
             if e["kind"] == "verification"][-1]
    assert "escalated" not in event["data"]
    # A restart again needs no approval, but says when it will be done.
    replanned = api["owner"].act(ticket.key, "propose_plan", **PLANS["service_restart"],
                                 expected_completion_at=LATER)
    assert replanned.json()["status"] == "in_progress", replanned.json()


@pytest.mark.parametrize(("after_due", "escalated"), [
    (timedelta(minutes=-1), None), (timedelta(hours=1), ["deadline_passed"])])
def test_without_a_deadline_a_failed_fix_past_its_sla_resolution_time_is_escalated(
        api, people, after_due, escalated):
    """The deadline is required only for urgent and high priority; otherwise the SLA's
    resolution due time is the deadline, as for the requests for progress: the one it had when
    the fix was sent (its clock stands still while the fix waits for verification)."""
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")
    Ticket.objects.filter(pk=ticket.pk).update(deadline_at=None)
    due = ticket.sla_clock.resolution_due_at
    resolved = api["owner"].act(ticket.key, "resolve", **fields_for("resolve", people))
    assert resolved.status_code == 200, resolved.json()

    with time_machine.travel(due + after_due):
        rejected = not_fixed(api, ticket.key).json()

    assert (rejected["escalated_at"] is not None) == bool(escalated)
    event = [e for e in api["owner"].timeline(ticket.key) if e["kind"] == "verification"][-1]
    assert event["data"].get("escalated") == escalated
