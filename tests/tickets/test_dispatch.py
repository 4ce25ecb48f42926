"""Dispatching by the worker (OPSDESK_DISPATCH=worker, the default outside the tests): filing
answers with the ticket as filed; the worker then routes it, starts its SLA clocks from the
submission time and tells people, many tickets at a time; acting on a ticket still waiting
dispatches it first; nothing is lost or done twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import Module, ModuleSupport, User
from opsdesk.accounts.roles import Role
from opsdesk.notify.models import Delivery
from opsdesk.sla.models import Clock
from opsdesk.tickets.dispatch import dispatch_all, dispatch_due
from opsdesk.tickets.models import Ticket
from tests.conftest import Api
from tests.factories import report

SH = ZoneInfo("Asia/Shanghai")
FILED = datetime(2026, 11, 18, 10, 0, tzinfo=SH)  # a Wednesday morning


@pytest.fixture(autouse=True)
def _dispatch_by_worker(settings: Any) -> None:
    settings.OPSDESK_DISPATCH = "worker"


def file(api: Api, **fields: Any) -> dict[str, Any]:
    body = report(**{"title": "支付回调超时", "impact": "all_users", "urgency": "immediate",
                     "module": "payment", **fields})
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return response.json()


def kinds(api: Api, key: str) -> list[str]:
    return [event["kind"] for event in api.timeline(key)]


def test_filing_answers_before_routing_and_the_worker_catches_up_from_submission(
    api: dict[str, Api], people: dict[str, User], payment: Module,
) -> None:
    with time_machine.travel(FILED, tick=False):
        filed = file(api["submitter"])
    assert filed["dispatched"] is False
    assert filed["status"] == "new" and filed["assignee"] is None
    assert filed["sla"]["state"] == "none" and filed["sla"]["response_due_at"] is None
    assert kinds(api["duty"], filed["key"]) == ["created"]
    assert not Delivery.objects.exists()

    with time_machine.travel(FILED + timedelta(seconds=3), tick=False):
        assert dispatch_due() == 1
    ticket = api["submitter"].read(filed["key"])
    assert ticket["dispatched"] is True
    assert ticket["status"] == "assigned"
    assert ticket["assignee"]["username"] == people["owner"].username
    clock = Clock.objects.get(ticket_id=ticket["id"])
    assert clock.started_at == FILED  # not when the worker got to it
    assert clock.response_due_at == FILED + timedelta(minutes=15)
    assert Delivery.objects.filter(recipient=people["owner"],
                                   notification_kind="assigned").count() == 1
    # Routed, the clocks started, then the assignee told and the submitter's receipt (written
    # together).
    assert kinds(api["duty"], filed["key"]) == ["created", "transition", "sla", "notification",
                                                "notification"]
    assert dispatch_due() == 0  # nothing is dispatched twice


def test_one_round_dispatches_a_burst_as_if_each_had_been_filed_alone(
    api: dict[str, Api], people: dict[str, User], payment: Module, make_user: Any,
) -> None:
    second = make_user(Role.SUPPORT, display_name="钱芳")
    for engineer in (people["support"], second):
        ModuleSupport.objects.create(module=payment, problem_type="code", engineer=engineer)
    keys = [file(api["duty"], impact="few_users", urgency="normal",
                 submitter=people["submitter"].username)["key"] for _ in range(6)]
    assert dispatch_due() == 6
    assignees = [api["duty"].read(key)["assignee"]["username"] for key in keys]
    assert sorted(assignees) == sorted([people["support"].username, second.username] * 3)
    assert Clock.objects.count() == 6


def test_acting_on_a_waiting_ticket_dispatches_it_first(
    api: dict[str, Api], people: dict[str, User], payment: Module,
) -> None:
    filed = file(api["submitter"], impact="few_users", urgency="normal", module=None)
    answer = api["submitter"].post(f"/tickets/{filed['key']}/comments",
                                   {"body": "补充：只有安卓端出现"})
    assert answer.status_code == 201
    timeline = kinds(api["duty"], filed["key"])
    assert timeline[0] == "created" and timeline[-1] == "comment"
    assert {"routing", "sla"} <= set(timeline)
    assert Ticket.objects.get(pk=filed["id"]).dispatched
    assert dispatch_due() == 0


def test_an_action_on_what_was_seen_before_routing_is_stale_once_routing_moved_it(
    api: dict[str, Api], people: dict[str, User], payment: Module,
) -> None:
    routed = file(api["submitter"])  # urgent, payment: the module owner's, by rule
    refused = api["duty"].act(routed["key"], "reassign", version=routed["version"],
                              assignee=people["support"].username)
    assert refused.status_code == 409
    assert refused.json()["code"] == "stale_version"
    ticket = api["duty"].read(routed["key"])
    assert ticket["assignee"]["username"] == people["owner"].username
    again = api["duty"].act(routed["key"], "reassign", version=ticket["version"],
                            assignee=people["support"].username)
    assert again.status_code == 200, again.json()

    waiting = file(api["submitter"], impact="few_users", urgency="normal", module=None)
    triage = api["duty"].act(waiting["key"], "triage", version=waiting["version"],
                             assignee=people["support"].username, priority="medium")
    assert triage.status_code == 200, triage.json()  # left for triage: nothing moved it
    timeline = kinds(api["duty"], waiting["key"])
    assert timeline[0] == "created"
    assert timeline.index("routing") < timeline.index("transition")
    assert timeline.index("sla") < timeline.index("transition")


def test_dispatching_everything_waiting_takes_as_many_rounds_as_it_needs(
    api: dict[str, Api], payment: Module, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("opsdesk.tickets.dispatch.BATCH", 2)
    keys = [file(api["submitter"])["key"] for _ in range(5)]
    assert dispatch_all() == 5
    assert all(api["submitter"].read(key)["dispatched"] for key in keys)
    assert dispatch_all() == 0


BAD_TITLE = "有问题的工单"


@pytest.fixture
def choking_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A creation hook with a bug that breaks on one ticket, and no ticket set aside yet."""
    from opsdesk.tickets import dispatch, hooks

    def chokes_on_one(changes: Any) -> None:
        if any(change.ticket.title == BAD_TITLE for change in changes):
            raise RuntimeError("a hook's bug")

    monkeypatch.setattr(hooks, "_after_creation", [chokes_on_one, *hooks._after_creation])
    monkeypatch.setattr(dispatch, "SET_ASIDE", dispatch.SetAside())


def test_a_ticket_a_hook_cannot_handle_waits_alone_and_the_others_are_dispatched(
    api: dict[str, Api], payment: Module, choking_hook: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = file(api["submitter"], title=BAD_TITLE)
    good = [file(api["submitter"])["key"] for _ in range(2)]
    with caplog.at_level("ERROR"):
        assert dispatch_due() == 2
    assert f"dispatching ticket {bad['id']} failed" in caplog.text
    assert all(api["submitter"].read(key)["dispatched"] for key in good)
    assert api["submitter"].read(bad["key"])["dispatched"] is False
    assert kinds(api["duty"], bad["key"]) == ["created"]  # nothing half done


def test_a_ticket_that_keeps_failing_is_set_aside_not_logged_every_round(
    api: dict[str, Api], payment: Module, choking_hook: None,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from opsdesk.tickets import dispatch

    clock = [1000.0]
    monkeypatch.setattr(dispatch.time, "monotonic", lambda: clock[0])
    bad = file(api["submitter"], title=BAD_TITLE)
    with caplog.at_level("WARNING"):
        dispatch_due()
        for _ in range(20):  # the dispatcher's rounds during the next second
            file(api["submitter"])
            assert dispatch_due() == 1
            clock[0] += 0.05

    assert caplog.text.count("Traceback") <= 2  # the batch's and the ticket's first failure
    assert caplog.text.count(f"dispatching ticket {bad['id']} failed") == 1
    clock[0] += 2  # held back for a second after its first failure: tried again now
    with caplog.at_level("WARNING"):
        dispatch_due()
    assert f"dispatching ticket {bad['id']} failed again (2 times)" in caplog.text
