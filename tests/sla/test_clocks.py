"""SLA clocks walked with time travel: deadlines in business time, pause and resume, priority
changes, and the escalation chain firing each threshold exactly once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from opsdesk.accounts.models import ModuleSupport
from opsdesk.sla import services as sla
from opsdesk.sla.models import Clock, Notice
from tests.conftest import Api
from tests.sla.filing import complete

SH = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def file(api: Api, **fields: Any) -> str:
    body = complete(**{
        "title": "支付失败", "impact": "few_users", "urgency": "normal", **fields,
    })
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return response.json()["key"]


def clock_of(key: str) -> Clock:
    return Clock.objects.select_related("policy").get(ticket_id=int(key.split("-")[1]))


def thresholds_fired(ticket_id: int) -> list[str]:
    rows = Notice.objects.filter(ticket_id=ticket_id).values_list("threshold", flat=True)
    return sorted(rows)


def sla_events(api: Api, key: str) -> list[str]:
    return [e["data"]["event"] for e in api.timeline(key) if e["kind"] == "sla"]


@pytest.fixture
def support_for_payment(people, payment):
    ModuleSupport.objects.create(module=payment, problem_type="code", engineer=people["support"])


def test_medium_ticket_filed_friday_evening_before_national_day_counts_the_make_up_sunday(
    api, people
):
    # Fri 2025-09-26 17:30; Sun 09-28 is a make-up working day (调休); 10-01..10-08 holiday.
    with time_machine.travel(at(2025, 9, 26, 17, 30), tick=False):
        key = file(api["submitter"])
    clock = clock_of(key)
    assert clock.policy.name == "中 · medium"
    assert clock.response_due_at == at(2025, 9, 28, 10, 30)  # 0.5 h Friday + 1.5 h Sunday
    # 27 business hours: 0.5 Fri + 9 Sun + 9 Mon + 8.5 Tue.
    assert clock.resolution_due_at == at(2025, 9, 30, 17, 30)
    assert sla_events(api["duty"], key) == ["started"]


def test_ticket_filed_at_night_gets_its_deadline_from_the_next_business_morning(api):
    with time_machine.travel(at(2026, 11, 18, 22, 40), tick=False):  # a Wednesday night
        key = file(api["submitter"])
    assert clock_of(key).response_due_at == at(2026, 11, 19, 11, 0)


def test_waiting_on_the_submitter_pauses_the_resolution_clock(api, people, payment):
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        key = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
        assert api["owner"].read(key)["assignee"]["username"] == people["owner"].username
        assert clock_of(key).resolution_due_at == at(2026, 11, 18, 14, 0)  # urgent: 4 h, 24×7
        travel.shift(timedelta(minutes=5))
        assert api["owner"].act(key, "acknowledge").status_code == 200
        travel.shift(timedelta(minutes=55))
        response = api["owner"].act(key, "request_info", comment="能复现吗？")
        assert response.status_code == 200
        travel.shift(timedelta(hours=2))
        reply = api["submitter"].post(f"/tickets/{key}/comments", {"body": "每次都能复现"})
        assert reply.status_code == 201
    clock = clock_of(key)
    assert clock.response_time == timedelta(minutes=5)
    assert clock.resolution_due_at == at(2026, 11, 18, 16, 0)  # 4 h + the 2 h paused
    assert sla_events(api["duty"], key) == ["started", "response_met", "paused", "resumed"]


def test_priority_change_recomputes_from_time_spent_excluding_pauses(api, people, payment):
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        key = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
        api["owner"].act(key, "acknowledge")
        travel.shift(timedelta(hours=1))
        api["owner"].act(key, "request_info", comment="请提供截图")
        travel.shift(timedelta(hours=2))
        api["submitter"].post(f"/tickets/{key}/comments", {"body": "已上传"})
        travel.shift(timedelta(minutes=30))  # 13:30: 1.5 h spent, 2 h paused
        ticket = api["owner"].read(key)
        response = api["owner"].patch(f"/tickets/{key}", {"version": ticket["version"],
                                                          "fields": {"priority": "high"}})
        assert response.status_code == 200, response.json()
    clock = clock_of(key)
    assert clock.policy.name == "高 · high"
    # high: 9 business hours; 7.5 left from 13:30 → 4.5 today, 3 tomorrow from 09:00.
    assert clock.resolution_due_at == at(2026, 11, 19, 12, 0)
    assert "recomputed" in sla_events(api["duty"], key)


def test_breach_escalates_through_the_chain_exactly_once(api, people, payment):
    start = at(2026, 11, 18, 3, 0)  # an urgent alert at 3 a.m.
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["duty"], impact="all_users", urgency="immediate", module="payment",
                   source_kind="alert", submitter_name="Alertmanager")
        ticket_id = int(key.split("-")[1])
        travel.move_to(start + timedelta(minutes=12))  # 75% of the 15-minute response
        sla.sweep()
        sla.sweep()
        travel.move_to(start + timedelta(minutes=16))
        sla.sweep()
        travel.move_to(start + timedelta(minutes=31))  # +100%
        sla.sweep()
        sla.sweep()
    fired = {(n.clock, n.threshold) for n in Notice.objects.filter(ticket_id=ticket_id)}
    assert fired == {("response", "warning"), ("response", "breach"), ("response", "severe")}
    assert Notice.objects.filter(ticket_id=ticket_id).count() == 3
    notified = {e["data"]["event"]: set(e["data"]["notified"])
                for e in api["duty"].timeline(key) if e["data"].get("notified") is not None}
    assert notified["warning"] == {people["owner"].username}
    assert notified["breach"] == {people["owner"].username, people["duty"].username,
                                  people["head"].username}
    assert notified["severe"] == notified["breach"]


def test_acknowledging_in_time_cancels_the_response_escalation(api, people, payment):
    start = at(2026, 11, 18, 3, 0)
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["duty"], impact="all_users", urgency="immediate", module="payment",
                   source_kind="alert", submitter_name="Alertmanager")
        travel.move_to(start + timedelta(minutes=5))
        api["owner"].act(key, "acknowledge")
        travel.move_to(start + timedelta(minutes=40))
        sla.sweep()
        assert api["owner"].read(key)["sla"]["state"] == "on_track"
    assert not Notice.objects.filter(ticket_id=int(key.split("-")[1]), clock="response").exists()


def test_sla_state_and_queue_filters(api, people, payment, support_for_payment,
                                     browser_as):
    start = at(2026, 11, 18, 10, 0)
    with time_machine.travel(start, tick=False) as travel:
        late = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
        travel.move_to(start + timedelta(minutes=12))
        risky = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
        fine = file(api["submitter"], module="payment")
        travel.move_to(start + timedelta(minutes=24))
        states = {key: api["duty"].read(key)["sla"]["state"] for key in (late, risky, fine)}
        assert states == {late: "breached", risky: "at_risk", fine: "on_track"}
        breached = api["duty"].get("/tickets", sla="breached").json()["items"]
        at_risk = api["duty"].get("/tickets", sla="at_risk").json()["items"]
        page = browser_as(people["duty"]).get("/tickets/?queue=at_risk").content.decode()
    assert [t["key"] for t in breached] == [late]
    assert [t["key"] for t in at_risk] == [risky]
    assert risky in page and late not in page and fine not in page
    for queue in ("at_risk", "breached"):  # the badges count what the queues list
        assert re.search(rf'class="q-{queue}">.*?class="count[^"]*">1<', page, re.S)


def test_a_ticket_is_at_risk_from_the_moment_of_its_warning(api, people, payment):
    start = at(2026, 11, 18, 10, 0)
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
        warn_at = Clock.objects.get(ticket_id=int(key.split("-")[1])).warn_at
        assert warn_at is not None
        travel.move_to(warn_at - timedelta(microseconds=1))
        assert api["duty"].get("/tickets", sla="at_risk").json()["items"] == []
        travel.move_to(warn_at)
        listed = api["duty"].get("/tickets", sla="at_risk").json()["items"]
        assert [t["key"] for t in listed] == [key]
        assert api["duty"].read(key)["sla"]["state"] == "at_risk"


def test_sla_queues_page_by_due_time_most_overdue_first(api, people):
    start = at(2026, 11, 18, 10, 0)
    with time_machine.travel(start, tick=False) as travel:
        filed = []
        for minutes in (0, 0, 3, 7):  # two due at the same moment: the ticket breaks the tie
            travel.move_to(start + timedelta(minutes=minutes))
            filed.append(file(api["submitter"], impact="all_users", urgency="immediate"))
        travel.move_to(start + timedelta(minutes=30))

        def walk(**params: Any) -> list[str]:
            keys, cursor = [], None
            while True:
                response = api["duty"].get("/tickets", limit=1, **params,
                                           **({"cursor": cursor} if cursor else {}))
                assert response.status_code == 200, response.json()
                keys += [t["key"] for t in response.json()["items"]]
                if (cursor := response.json()["next_cursor"]) is None:
                    return keys

        assert walk(sla="breached") == filed
        assert walk(sla="breached", order="due") == filed
        assert walk(sla="breached", order="-id") == filed[::-1]
        assert api["duty"].get("/tickets", order="due").status_code == 422  # needs an sla queue


# The worker closes its database connection when a batch ends: outside a test transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_between_warning_and_breach_fires_each_threshold_once(
    api, people, payment, django_capture_on_commit_callbacks
):
    start = at(2026, 11, 18, 3, 0)
    with time_machine.travel(start, tick=False) as travel:
        with django_capture_on_commit_callbacks(execute=True):
            key = file(api["duty"], impact="all_users", urgency="immediate", module="payment",
                       source_kind="alert", submitter_name="Alertmanager")
        ticket_id = int(key.split("-")[1])
        travel.move_to(start + timedelta(minutes=12))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)  # runs the timer due at the warning
        assert thresholds_fired(ticket_id) == ["warning"]
        # The worker dies here; a new one starts later with nothing in memory.
        travel.move_to(start + timedelta(minutes=16))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("worker", batch=True)
            call_command("worker", batch=True)
    assert thresholds_fired(ticket_id) == ["breach", "warning"]


def test_editing_a_policy_recomputes_open_tickets_keeping_time_spent(api, people, payment):
    start = at(2026, 11, 18, 10, 0)
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["submitter"], impact="all_users", urgency="immediate", module="payment")
        travel.shift(timedelta(hours=1))
        policy = clock_of(key).policy
        assert sla.update_policy(policy=policy, resolution_amount=Decimal(8)) == 1
    clock = clock_of(key)
    assert clock.resolution_due_at == start + timedelta(hours=8)  # 1 h spent + 7 h left
    assert sla_events(api["duty"], key)[-1] == "recomputed"
