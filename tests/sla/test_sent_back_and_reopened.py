"""The response clock around the two moves that put a ticket back before anyone's response: a
report sent back to its submitter pauses it until she answers, and a reopened ticket that goes
back to triage starts a new one; every reopening runs the resolution clock again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.accounts.models import User
from opsdesk.sla import services as sla
from opsdesk.sla.models import Clock, Notice
from tests.conftest import Api
from tests.sla.filing import complete

SH = ZoneInfo("Asia/Shanghai")
INCOMPLETE = "请补充出错的时间、操作步骤和报错信息"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def file(api: Api) -> str:
    """A medium report (response within 2 business hours, resolution within 3 business days)
    that nobody has triaged yet."""
    response = api.post("/tickets", complete(title="报表导出乱码", impact="few_users",
                                             urgency="normal"))
    assert response.status_code == 201, response.json()
    return str(response.json()["key"])


def clock_of(key: str) -> Clock:
    return Clock.objects.get(ticket_id=int(key.split("-")[1]))


def fired(key: str, kind: str) -> list[tuple[str, datetime]]:
    rows = Notice.objects.filter(ticket_id=int(key.split("-")[1]), clock=kind).order_by("id")
    return [(n.threshold, n.fired_at) for n in rows]


def check(key: str) -> None:
    """What the worker's timer or sweep does at this moment."""
    sla.check_thresholds(ticket_id=int(key.split("-")[1]))


def sla_events(api: Api, key: str) -> list[str]:
    return [e["data"]["event"] for e in api.timeline(key) if e["kind"] == "sla"]


def acted(api: Api, key: str, action: str, **fields: Any) -> dict[str, Any]:
    response = api.act(key, action, **fields)
    assert response.status_code == 200, response.json()
    return dict(response.json())


def completes_her_report(api: Api, key: str) -> None:
    version = api.read(key)["version"]
    response = api.patch(f"/tickets/{key}", {"version": version, "fields": {
        "error_message": "导出文件打开后表头为乱码：ç»è®¡"}})
    assert response.status_code == 200, response.json()


def answers(api: Api, key: str) -> None:
    response = api.post(f"/tickets/{key}/comments", {"body": "下午三点导出的，报错见附件"})
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("answer", [completes_her_report, answers])
def test_a_report_sent_back_pauses_the_response_clock_until_the_submitter_answers(
    api: dict[str, Api], answer: Any
) -> None:
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:  # Wednesday
        key = file(api["submitter"])
        assert clock_of(key).response_due_at == at(2026, 11, 18, 12, 0)
        travel.move_to(at(2026, 11, 18, 10, 30))  # half an hour of the two used
        acted(api["duty"], key, "send_back", reason=INCOMPLETE)
        assert api["duty"].read(key)["sla"]["response_due_at"] is None
        # Her afternoon passes: the warning (11:30), the breach (12:00) and the +100% (14:00)
        # of the response would all have been reached.
        for moment in (at(2026, 11, 18, 11, 30), at(2026, 11, 18, 14, 0),
                       at(2026, 11, 18, 16, 0)):
            travel.move_to(moment)
            check(key)
        assert fired(key, "response") == []

        answer(api["submitter"], key)  # at 16:00
        assert api["duty"].read(key)["status"] == "new"
        # An hour and a half left: due 17:30, the warning at 17:00 (75% of two hours).
        assert clock_of(key).response_due_at == at(2026, 11, 18, 17, 30)
        travel.move_to(at(2026, 11, 18, 16, 59))
        check(key)
        assert fired(key, "response") == []
        travel.move_to(at(2026, 11, 18, 17, 0))
        check(key)
    assert fired(key, "response") == [("warning", at(2026, 11, 18, 17, 0))]
    assert sla_events(api["duty"], key)[:3] == ["started", "paused", "resumed"]


def test_an_engineers_reply_while_the_report_is_sent_back_is_the_response(
    api: dict[str, Api], people: dict[str, User]
) -> None:
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        key = file(api["submitter"])
        acted(api["duty"], key, "triage", priority="medium",
              assignee=people["support"].username)
        travel.move_to(at(2026, 11, 18, 10, 45))
        acted(api["duty"], key, "send_back", reason=INCOMPLETE)
        travel.move_to(at(2026, 11, 18, 15, 0))
        reply = api["support"].post(f"/tickets/{key}/comments",
                                    {"body": "请告诉我们导出的是哪张报表"})
        assert reply.status_code == 201, reply.json()
    clock = clock_of(key)
    assert clock.responded_at == at(2026, 11, 18, 15, 0)
    assert clock.response_time == timedelta(minutes=45)  # the pause not counted
    assert "response_met" in sla_events(api["duty"], key)


def closed(api: dict[str, Api], people: dict[str, User], key: str, *, assigned: bool) -> None:
    """The report dismissed at triage (nobody assigned), or by the duty engineer once
    assigned, at 13:00: three hours of resolution time spent."""
    if assigned:
        acted(api["duty"], key, "triage", priority="medium", assignee=people["owner"].username)
    acted(api["duty"], key, "dismiss", reason="误报，系统按设计运行")


@pytest.mark.parametrize("archived", [False, True], ids=["closed", "archived"])
def test_reopened_back_to_triage_both_clocks_run_again(
    api: dict[str, Api], people: dict[str, User], archived: bool
) -> None:
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:  # Wednesday
        key = file(api["submitter"])
        travel.move_to(at(2026, 11, 18, 12, 30))
        check(key)  # nobody triaged it in time: the response's warning and breach fire
        assert [t for t, _at in fired(key, "response")] == ["warning", "breach"]
        travel.move_to(at(2026, 11, 18, 13, 0))
        closed(api, people, key, assigned=False)
        if archived:
            acted(api["duty"], key, "archive")
        travel.move_to(at(2026, 11, 19, 10, 0))  # Thursday
        assert acted(api["submitter"], key, "reopen",
                     reason="今天又出现了同样的乱码")["status"] == "new"
        clock = clock_of(key)
        # 3 of the 27 business hours spent before closing: 24 left from Thursday 10:00.
        assert clock.resolved_at is None
        assert clock.resolution_due_at == at(2026, 11, 23, 16, 0)
        assert (clock.responded_at, clock.response_time) == (None, None)
        assert clock.response_due_at == at(2026, 11, 19, 12, 0)  # two hours, a new response
        travel.move_to(at(2026, 11, 19, 11, 30))
        check(key)  # the new response clock warns again
    assert fired(key, "response") == [("warning", at(2026, 11, 19, 11, 30))]
    assert sla_events(api["duty"], key)[-2:] == ["reopened", "warning"]


@pytest.mark.parametrize("archived", [False, True], ids=["closed", "archived"])
def test_reopened_to_its_assignee_the_resolution_clock_runs_again(
    api: dict[str, Api], people: dict[str, User], archived: bool
) -> None:
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:
        key = file(api["submitter"])
        travel.move_to(at(2026, 11, 18, 13, 0))
        closed(api, people, key, assigned=True)
        if archived:
            acted(api["duty"], key, "archive")
        travel.move_to(at(2026, 11, 19, 10, 0))
        assert acted(api["submitter"], key, "reopen",
                     reason="今天又出现了同样的乱码")["status"] == "analysing"
    clock = clock_of(key)
    assert clock.responded_at == at(2026, 11, 18, 13, 0)  # the response stays given
    assert clock.resolved_at is None
    assert clock.running_since == at(2026, 11, 19, 10, 0)
    assert clock.resolution_due_at == at(2026, 11, 23, 16, 0)
    assert sla_events(api["duty"], key)[-1] == "reopened"
