"""Routing walked through the API: rules assign new tickets and say why on the timeline; the
least-loaded support engineer gets medium/low work, equals take turns; what no rule can place
waits for the duty engineer on shift; workflow events reach the people they concern."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import ModuleSupport
from opsdesk.accounts.roles import Role
from opsdesk.notify.models import Delivery
from opsdesk.routing.models import AssignTo, DutyShift, RoutingRule
from tests.factories import fields_for, report

SH = ZoneInfo("Asia/Shanghai")


def file(api, **fields):
    body = report(**{"title": "支付回调超时", "impact": "few_users", "urgency": "normal",
                     **fields})
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return response.json()


def routing_events(api, key):
    return [e for e in api.timeline(key) if e["kind"] in ("transition", "routing")]


def notified(kind, user):
    return Delivery.objects.filter(notification_kind=kind, recipient=user).count()


def test_urgent_goes_to_the_module_owner_at_once_and_the_timeline_names_the_rule(
    api, people, payment
):
    ticket = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
    assert ticket["status"] == "assigned"
    assert ticket["assignee"]["username"] == people["owner"].username
    [event] = routing_events(api["duty"], ticket["key"])
    assert event["actor"] is None
    assert event["data"]["rule"] == "urgent-high-to-module-owner"
    assert notified("assigned", people["owner"]) == 1


def test_medium_goes_to_the_least_loaded_support_engineer_and_equals_take_turns(
    api, people, payment, make_user
):
    second = make_user(Role.SUPPORT, display_name="钱芳")
    for engineer in (people["support"], second):
        ModuleSupport.objects.create(module=payment, problem_type="code", engineer=engineer)
    first_two = [file(api["submitter"], module="payment")["assignee"]["username"]
                 for _ in range(2)]
    assert sorted(first_two) == sorted([people["support"].username, second.username])
    busy = first_two[0]
    third = file(api["submitter"], module="payment")["assignee"]["username"]
    assert third == busy  # equal load → the one whose last assignment is oldest
    fourth = file(api["submitter"], module="payment")["assignee"]["username"]
    assert fourth != busy


def test_without_a_module_the_ticket_waits_for_the_duty_engineer_on_shift(
    api, people, make_user
):
    night_duty = make_user(Role.DUTY, display_name="夜班 郑超")
    now = datetime(2026, 11, 18, 23, 0, tzinfo=SH)
    DutyShift.objects.create(starts_at=now - timedelta(hours=3), ends_at=now + timedelta(hours=9),
                             engineer=night_duty, backup=people["duty"])
    with time_machine.travel(now, tick=False):
        ticket = file(api["submitter"])
    assert ticket["status"] == "new" and ticket["assignee"] is None
    [event] = [e for e in routing_events(api["duty"], ticket["key"]) if e["kind"] == "routing"]
    assert event["data"]["duty_engineer"] == night_duty.username
    assert event["internal"] is True
    assert notified("triage_needed", night_duty) == 1
    assert not any(e["kind"] == "routing" for e in api["submitter"].timeline(ticket["key"]))


def test_rules_are_data_evaluated_in_order(api, people, payment, make_user):
    dba = make_user(Role.OWNER, display_name="DBA 孔明")
    RoutingRule.objects.create(name="alerts-to-dba", order=1, source_kinds=["alert"],
                               assign_to=AssignTo.USER, user=dba)
    alert = file(api["duty"], source_kind="alert", submitter_name="Alertmanager",
                 impact="all_users", urgency="immediate", module="payment")
    assert alert["assignee"]["username"] == dba.username
    report = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
    assert report["assignee"]["username"] == people["owner"].username


def test_disabled_rules_are_skipped(api, people, payment):
    for rule in RoutingRule.objects.all():  # as the admin does, one rule at a time
        rule.enabled = False
        rule.save()
    ticket = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
    assert ticket["status"] == "new"


@pytest.mark.parametrize(("hour", "duty_told"), [(10, False), (22, True)])
def test_escalation_reaches_the_head_and_out_of_hours_the_duty_engineer(
    api, people, payment, hour, duty_told
):
    with time_machine.travel(datetime(2026, 11, 18, hour, 0, tzinfo=SH), tick=False):
        ticket = file(api["submitter"], impact="all_users", urgency="immediate",
                      module="payment")
        api["owner"].act(ticket["key"], "acknowledge")
        response = api["owner"].act(ticket["key"], "escalate", reason="需要 DBA 扩容")
        assert response.status_code == 200, response.json()
    assert notified("escalated", people["head"]) == 1
    assert notified("escalated", people["duty"]) == int(duty_told)


def test_a_plan_waiting_for_approval_reaches_the_head(api, people, payment):
    ticket = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
    key = ticket["key"]
    api["owner"].act(key, "acknowledge")
    api["owner"].act(key, "classify", **fields_for("classify", people))
    response = api["owner"].act(key, "propose_plan", **fields_for("propose_plan", people))
    assert response.json()["status"] == "awaiting_approval"
    assert notified("approval_requested", people["head"]) == 1
