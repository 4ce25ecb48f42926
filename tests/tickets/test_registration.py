"""A report is complete at the door where a person fills it in (tickets/registration.py): the
API and the portal ask for everything the procedure lists and name every missing field at
once; other doors carry their own; and the duty engineer sends an incomplete report back to its
submitter instead of triaging it."""

from __future__ import annotations

import pytest
from django.utils import translation

from opsdesk.tickets import registration, services
from opsdesk.tickets.choices import Channel, SourceKind, Status
from opsdesk.tickets.errors import MissingFields
from opsdesk.tickets.hooks import TicketChange, _after_change
from opsdesk.tickets.models import Ticket
from tests.factories import report

pytestmark = pytest.mark.django_db

EVERYTHING = ["description", "occurred_at", "impact_scope", "steps_to_reproduce",
              "error_message"]


def test_a_report_through_the_api_names_every_missing_field_at_once(api):
    response = api["submitter"].post(
        "/tickets", {"title": "用户无法登录系统", "impact": "some_users", "urgency": "high"})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "missing_fields" and body["details"]["missing"] == EVERYTHING
    for label in ("description", "occurred at", "impact scope", "steps to reproduce",
                  "error message"):
        assert label in body["message"]
    assert not Ticket.objects.exists()


def test_the_missing_fields_are_named_in_the_readers_language(people):
    with translation.override("zh-hans"), pytest.raises(MissingFields) as refused:
        services.create_ticket(by=people["submitter"], title="无法登录", impact="some_users",
                               urgency="high", description="登录报错")
    assert "发生时间" in refused.value.message


def test_a_complete_report_is_taken(api):
    response = api["submitter"].post("/tickets", report())
    assert response.status_code == 201, response.json()


def test_a_suggestion_needs_no_occurrence_steps_or_error(api):
    suggestion = {"title": "希望增加导出按钮", "impact": "none", "urgency": "low",
                  "description": "报表页希望能导出 Excel", "impact_scope": "财务部"}

    response = api["submitter"].post("/tickets", suggestion)

    assert response.status_code == 201, response.json()


def test_the_contact_is_required_when_the_person_has_none(api, people):
    people["submitter"].email = ""
    people["submitter"].save()

    response = api["submitter"].post("/tickets", report())

    assert response.json()["details"]["missing"] == ["submitter_contact"]
    assert api["submitter"].post("/tickets", report(submitter_contact="分机 8021")
                                 ).status_code == 201


# Each door, as the table says: a person's form asks for all; other doors carry their own.
DOORS = [
    (SourceKind.USER_REPORT, Channel.API, EVERYTHING),
    (SourceKind.USER_REPORT, Channel.WEB, EVERYTHING),
    (SourceKind.USER_REPORT, Channel.EMAIL, []),
    (SourceKind.USER_REPORT, Channel.TICKET_PLATFORM, []),
    (SourceKind.USER_REPORT, Channel.CUSTOMER_SERVICE, []),
    (SourceKind.ALERT, Channel.ALERTMANAGER, []),
    (SourceKind.ALERT, Channel.ZABBIX, []),
    (SourceKind.INSPECTION, Channel.INSPECTION, ["description"]),
    (SourceKind.CROSS_DEPARTMENT, Channel.API, ["description", "submitter_contact"]),
    (SourceKind.EMERGENCY, Channel.WEB, ["description"]),
]


@pytest.mark.parametrize(("source", "channel", "missing"), DOORS,
                         ids=[f"{s}-{c}" for s, c, _m in DOORS])
def test_each_door_requires_what_the_table_says(people, source, channel, missing):
    filing = {"by": people["duty"], "title": "支付回调超时", "impact": "some_users",
              "urgency": "high", "source_kind": source, "channel": channel,
              "submitter_name": "值班"}

    if missing:
        with pytest.raises(MissingFields) as refused:
            services.create_ticket(**filing)
        assert refused.value.details["missing"] == missing
    else:
        services.create_ticket(**filing)
    assert registration.door_for(source, channel) is not None


# Sending an incomplete report back ---------------------------------------------------------------


@pytest.fixture
def changes():
    heard: list[TicketChange] = []
    _after_change.append(heard.append)
    yield heard
    _after_change.remove(heard.append)


def mailed_report(people) -> Ticket:
    """A report by mail: it carries only its subject and text."""
    return services.create_ticket(by=None, submitter=people["submitter"], title="登录不了",
                                  impact="some_users", urgency="high", channel=Channel.EMAIL,
                                  description="早上开始登录不了，请尽快处理")


def test_the_duty_engineer_sends_an_incomplete_report_back_and_her_edit_brings_it_back(
        api, people, changes):
    key = mailed_report(people).key
    assert "send_back" in [a["name"] for a in api["duty"].read(key)["actions"]]

    sent = api["duty"].act(key, "send_back", reason="请补充出错时间、操作步骤和报错截图里的文字")

    assert sent.status_code == 200, sent.json()
    assert sent.json()["status"] == "waiting"
    event = [e for e in api["submitter"].timeline(key) if e["kind"] == "transition"][-1]
    assert event["data"]["action"] == "send_back"
    assert event["data"]["missing"] == ["occurred_at", "impact_scope", "steps_to_reproduce",
                                        "error_message"]
    [change] = [c for c in changes if c.action == "send_back"]
    assert change.details["missing"] == event["data"]["missing"]
    assert change.details["reason"] == "请补充出错时间、操作步骤和报错截图里的文字"
    # The submitter may now complete her report; doing so resumes it.
    mine = api["submitter"].read(key)
    assert {"occurred_at", "error_message"} <= set(mine["editable_fields"])
    completed = api["submitter"].patch(f"/tickets/{key}", {"version": mine["version"], "fields": {
        "occurred_at": "2026-11-25T08:40:00+08:00", "impact_scope": "运营部",
        "steps_to_reproduce": "打开登录页并登录", "error_message": "500"}})

    assert completed.status_code == 200, completed.json()
    assert completed.json()["status"] == "new"
    resumed = [c for c in changes if c.action == "resume"]
    assert resumed and resumed[-1].actor == people["submitter"]


def test_her_reply_brings_a_sent_back_report_back_too(api, people):
    key = mailed_report(people).key
    api["duty"].act(key, "send_back", reason="请补充出错时间")

    api["submitter"].post(f"/tickets/{key}/comments", {"body": "今天早上 8:40 开始"})

    assert api["duty"].read(key)["status"] == "new"


def test_only_the_duty_engineer_and_the_head_send_a_report_back(api, people):
    key = mailed_report(people).key

    for who in ("owner", "support", "submitter"):
        response = api[who].act(key, "send_back", reason="不完整")
        assert response.status_code == 403, (who, response.json())
    refused = api["duty"].act(key, "send_back")
    assert refused.json()["details"]["missing"] == ["reason"]
    assert api["duty"].read(key)["status"] == Status.NEW
