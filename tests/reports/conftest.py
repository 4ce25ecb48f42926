"""A small desk with a known history, walked through the real services with time travel, so
every ticket has its timeline and SLA clocks as production would leave them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import Module, User
from tests.conftest import Api
from tests.factories import PLANS, fields_for

SH = ZoneInfo("Asia/Shanghai")
# "Now" for the figures: Thursday 2026-11-19, noon in Shanghai.
NOW = datetime(2026, 11, 19, 12, 0, tzinfo=SH)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def file(api: Api, **fields: Any) -> str:
    body = {"title": "支付失败", "impact": "few_users", "urgency": "normal", **fields}
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return response.json()["key"]


def act(api: Api, key: str, action: str, people: dict[str, User]) -> None:
    fields = PLANS["service_restart"] if action == "propose_plan" else fields_for(action, people)
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
