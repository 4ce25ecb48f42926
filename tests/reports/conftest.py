"""A small desk with a known history, walked through the real services with time travel, so
every ticket has its timeline and SLA clocks as production would leave them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import Module, User
from opsdesk.tickets.services import rate_support
from tests.conftest import Api
from tests.factories import PLANS, ModuleFactory, fields_for, report

SH = ZoneInfo("Asia/Shanghai")
# "Now" for the figures: Thursday 2026-11-19, noon in Shanghai.
NOW = datetime(2026, 11, 19, 12, 0, tzinfo=SH)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def file(api: Api, **fields: Any) -> str:
    body = report(**{"title": "支付失败", "impact": "few_users", "urgency": "normal", **fields})
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return response.json()["key"]


def act(api: Api, key: str, action: str, people: dict[str, User]) -> None:
    fields = PLANS["service_restart"] if action == "propose_plan" else fields_for(action, people)
    if action == "classify":
        fields = {**fields, "problem_type": "environment"}  # a restart fits it
    response = api.act(key, action, **fields)
    assert response.status_code == 200, response.json()


@pytest.fixture
def desk(api: dict[str, Api], people: dict[str, User], payment: Module) -> dict[str, str]:
    """Five tickets around midnight in Shanghai (times are local):

    - resolved: urgent, payment, filed Wed 18th 10:00, acknowledged 10:05 (5 min, on time),
      resolved 12:00 (2 h of 4), confirmed: closed;
    - after_midnight: urgent, payment, filed Thu 19th 00:10 (still the 18th in UTC),
      acknowledged 00:40 (30 min, late); running since, past its 4 h resolution target;
    - medium: medium, no module, filed Thu 19th 09:30 by the submitter, untouched (its 2 h
      response target passed at 11:30);
    - alert: high, from monitoring, filed Thu 19th 11:00 by the duty engineer, untouched;
    - old: low, payment, filed Tue 10th 15:00, untouched (9 days old).
    """
    owner, duty, submitter = api["owner"], api["duty"], api["submitter"]
    urgent = {"impact": "all_users", "urgency": "immediate", "module": "payment"}
    keys = {}
    with time_machine.travel(at(2026, 11, 10, 15, 0), tick=False):
        keys["old"] = file(duty, priority="low", module="payment", submitter=people[
            "submitter"].username)
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        keys["resolved"] = file(submitter, **urgent)
        travel.shift(timedelta(minutes=5))
        act(owner, keys["resolved"], "acknowledge", people)
        act(owner, keys["resolved"], "classify", people)
        act(owner, keys["resolved"], "propose_plan", people)
        travel.move_to(at(2026, 11, 18, 12, 0))
        act(owner, keys["resolved"], "resolve", people)
        act(submitter, keys["resolved"], "confirm", people)
    with time_machine.travel(at(2026, 11, 19, 0, 10), tick=False) as travel:
        keys["after_midnight"] = file(submitter, **urgent)
        travel.shift(timedelta(minutes=30))
        act(owner, keys["after_midnight"], "acknowledge", people)
    with time_machine.travel(at(2026, 11, 19, 9, 30), tick=False):
        keys["medium"] = file(submitter)
    with time_machine.travel(at(2026, 11, 19, 11, 0), tick=False):
        keys["alert"] = file(duty, title="[告警] 10.0.3.7 CPU 使用率持续 95%",
                             impact="some_users", urgency="high", source_kind="alert",
                             channel="alertmanager", submitter_name="Alertmanager")
    return keys


def step(api: Api, key: str, action: str, **fields: Any) -> None:
    response = api.act(key, action, **fields)
    assert response.status_code == 200, (action, response.json())


def classify(api: Api, key: str, people: dict[str, User], module: str) -> None:
    fields = {**fields_for("classify", people), "problem_type": "environment", "module": module}
    step(api, key, "classify", **fields)


def plan(api: Api, key: str, *, again: bool = False) -> None:
    fields = dict(PLANS["service_restart"])  # a restart fits the environment: no approval
    if again:  # after a failed fix or a reopening the plan says when it will be done
        fields["expected_completion_at"] = "2026-12-31T18:00:00+08:00"
    step(api, key, "propose_plan", **fields)


@pytest.fixture
def history(api: dict[str, Api], people: dict[str, User], payment: Module) -> dict[str, str]:
    """Three months of the review, walked through the API with time travel (Shanghai times;
    'now' is NOW, 2026-11-19 noon). Elapsed minutes from filing to the first response (MTTA)
    and to resolution (MTTR):

    - sept: payment, filed 09-10 09:00, acknowledged +30, resolved 13:00 (+240), confirmed;
      rated 5 on 09-11.
    - reopened: payment, filed 10-05 10:00, acknowledged +10, resolved 12:00 and confirmed,
      reopened 10-08 09:00, resolved again 10-08 11:00 (+4,380), confirmed; rated 2 on 10-09.
    - rejected: payment, filed 11-02 09:00, acknowledged +20, resolved 11:00, fix rejected,
      resolved again 11-03 10:00 (+1,500), confirmed; rated 4 on 11-04.
    - midnight: no module at filing, triaged to the support engineer, network, filed 10-31
      22:00, acknowledged +6 (still October), resolved 11-01 00:20 (+140), confirmed 00:30:
      November in Shanghai, October in UTC; rated 3 on 11-01 09:00.
    - open: payment, filed 11-18 10:00, acknowledged +40, not classified, still open.

    Every classified ticket is an environment problem.
    """
    owner, duty, support, submitter = api["owner"], api["duty"], api["support"], api["submitter"]
    ModuleFactory(code="network", name="网络", owner=people["owner"])
    resolution = fields_for("resolve", people)
    keys: dict[str, str] = {}
    with time_machine.travel(at(2026, 9, 10, 9, 0), tick=False) as travel:
        keys["sept"] = key = file(submitter, module="payment")
        step(duty, key, "triage", assignee=people["owner"].username)
        travel.shift(timedelta(minutes=30))
        step(owner, key, "acknowledge")
        classify(owner, key, people, "payment")
        plan(owner, key)
        travel.move_to(at(2026, 9, 10, 13, 0))
        step(owner, key, "resolve", **resolution)
        step(submitter, key, "confirm")
    with time_machine.travel(at(2026, 10, 5, 10, 0), tick=False) as travel:
        keys["reopened"] = key = file(submitter, module="payment")
        step(duty, key, "triage", assignee=people["owner"].username)
        travel.shift(timedelta(minutes=10))
        step(owner, key, "acknowledge")
        classify(owner, key, people, "payment")
        plan(owner, key)
        travel.move_to(at(2026, 10, 5, 12, 0))
        step(owner, key, "resolve", **resolution)
        step(submitter, key, "confirm")
        travel.move_to(at(2026, 10, 8, 9, 0))
        step(submitter, key, "reopen", **fields_for("reopen", people))
        classify(owner, key, people, "payment")
        plan(owner, key, again=True)
        travel.move_to(at(2026, 10, 8, 11, 0))
        step(owner, key, "resolve", **resolution)
        step(submitter, key, "confirm")
    with time_machine.travel(at(2026, 10, 31, 22, 0), tick=False) as travel:
        keys["midnight"] = key = file(submitter)
        step(duty, key, "triage", assignee=people["support"].username)
        travel.shift(timedelta(minutes=6))
        step(support, key, "acknowledge")
        classify(support, key, people, "network")
        plan(support, key)
        travel.move_to(at(2026, 11, 1, 0, 20))
        step(support, key, "resolve", **resolution)
        travel.move_to(at(2026, 11, 1, 0, 30))
        step(submitter, key, "confirm")
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False) as travel:
        keys["rejected"] = key = file(submitter, module="payment")
        step(duty, key, "triage", assignee=people["owner"].username)
        travel.shift(timedelta(minutes=20))
        step(owner, key, "acknowledge")
        classify(owner, key, people, "payment")
        plan(owner, key)
        travel.move_to(at(2026, 11, 2, 11, 0))
        step(owner, key, "resolve", **resolution)
        step(submitter, key, "reject_fix", **fields_for("reject_fix", people))
        plan(owner, key, again=True)
        travel.move_to(at(2026, 11, 3, 10, 0))
        step(owner, key, "resolve", **resolution)
        step(submitter, key, "confirm")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        keys["open"] = key = file(submitter, module="payment")
        step(duty, key, "triage", assignee=people["owner"].username)
        travel.shift(timedelta(minutes=40))
        step(owner, key, "acknowledge")
    for name, score, moment in (("sept", 5, at(2026, 9, 11, 10, 0)),
                                ("reopened", 2, at(2026, 10, 9, 10, 0)),
                                ("midnight", 3, at(2026, 11, 1, 9, 0)),
                                ("rejected", 4, at(2026, 11, 4, 10, 0))):
        with time_machine.travel(moment, tick=False):
            rate_support(ticket_id=int(keys[name].split("-")[1]), by=people["submitter"],
                         score=score)
    return keys


def file_alert(api: Api, rule: str, host: str, title: str = "") -> str:
    """An alert filed the way the duty engineer forwards one."""
    return file(api, title=title or f"[告警] {host} {rule}", impact="some_users",
                urgency="high", source_kind="alert", channel="alertmanager",
                submitter_name="Alertmanager", alert_rule=rule, alert_host=host)
