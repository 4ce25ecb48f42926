"""Cross-department requests: the form files a requirement ticket, and the workflow table makes
every plan on it carry a delivery schedule and wait for the department head."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.tickets.choices import PlanKind
from opsdesk.tickets.models import Plan, Ticket
from tests.conftest import Api
from tests.factories import PLANS, fields_for, payment_module, ticket_in
from tests.tickets.test_procedure_api import latest

pytestmark = pytest.mark.django_db


def step(command: str, **more: object) -> dict[str, object]:
    """A work-log step as the API takes it, five minutes long."""
    return {"command": command, "duration_minutes": 5, **more}

TODAY = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
FORM = {
    "department": "产品部",
    "needed": "对账系统对接新的支付渠道（银联云闪付）\n需要提供对账文件下载接口",
    "business_reason": "12 月起云闪付上线，财务需要每日对账",
    "desired_date": "2026-12-20",
    "contact": "产品部 王芳 138 1111 2222",
}
PLAN = {"plan_kind": "requirement_delivery", "plan_summary": "新增云闪付对账文件接口"}
SCHEDULE = {"delivery_schedule": "12 月 7 日评审，12 月 18 日交付"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def file_request(api: Api, **changes: object) -> dict:
    response = api.post("/requests/cross-department", {**FORM, **changes})
    assert response.status_code == 201, response.json()
    return response.json()


def to_planning(api, people, key):
    payment_module(people["owner"])
    assert api["duty"].act(key, "triage", **fields_for("triage", people)).status_code == 200
    assert api["owner"].act(key, "acknowledge").status_code == 200
    response = api["owner"].act(key, "classify", module="payment", estimate_minutes=960)
    assert response.status_code == 200, response.json()


def test_a_department_files_a_request_and_gets_a_requirement_ticket(api, people):
    filed = file_request(api["submitter"])

    assert filed["department"] == "产品部" and filed["desired_date"] == "2026-12-20"
    ticket = api["submitter"].read(filed["ticket"]["key"])
    assert ticket["title"] == "对账系统对接新的支付渠道（银联云闪付）"
    assert ticket["source_kind"] == "cross_department"
    assert ticket["problem_type"] == "requirement"
    assert ticket["priority"] == "medium"
    assert ticket["submitter"]["username"] == people["submitter"].username
    assert ticket["submitter_department"] == "产品部"
    assert ticket["submitter_contact"] == "产品部 王芳 138 1111 2222"
    for text in ("需要提供对账文件下载接口", "12 月起云闪付上线", "2026-12-20"):
        assert text in ticket["description"]
    assert latest(api["submitter"].timeline(ticket["key"]), "created")["data"]["source_kind"] == (
        "cross_department")


def test_the_plan_needs_a_delivery_schedule_and_the_heads_approval(api, people):
    key = file_request(api["submitter"])["ticket"]["key"]
    to_planning(api, people, key)

    missing = api["owner"].act(key, "propose_plan", **{**PLAN, "plan_kind": "other"})
    assert missing.status_code == 422
    assert missing.json()["details"]["missing"] == ["delivery_schedule"]

    # Nobody ticked "needs another department": the table raises the flag anyway.
    proposed = api["owner"].act(key, "propose_plan", **PLAN, **SCHEDULE)
    assert proposed.status_code == 200, proposed.json()
    assert proposed.json()["status"] == "awaiting_approval"
    assert proposed.json()["current_plan"]["risk_flags"] == ["needs_other_department"]
    assert latest(api["owner"].timeline(key), "plan")["data"]["forced"] == [
        "needs_other_department"]
    # Nothing is executed before the head approves.
    refused = api["owner"].post(f"/tickets/{key}/worklog", step("git push"))
    assert refused.status_code == 409 and refused.json()["code"] == "approval_required"

    version = api["head"].read(key)["version"]
    approved = api["head"].post(f"/tickets/{key}/approve", {"version": version})
    assert approved.status_code == 200 and approved.json()["status"] == "in_progress"

    # A revised plan is a new plan: it waits for the head again.
    assert api["owner"].act(key, "revise_plan", reason="渠道方接口延期").status_code == 200
    revised = api["owner"].act(key, "propose_plan", **SCHEDULE, plan_kind="requirement_delivery",
                               plan_summary="先交付手工对账导出，接口延后")
    assert revised.status_code == 200 and revised.json()["status"] == "awaiting_approval"


@pytest.mark.parametrize("kind", [k.value for k in PlanKind])
def test_every_kind_of_plan_on_a_request_waits_for_the_head(api, people, kind):
    key = file_request(api["submitter"])["ticket"]["key"]
    to_planning(api, people, key)
    fields = {**PLAN, **SCHEDULE, "plan_kind": kind}
    if kind == PlanKind.CODE_FIX:
        fields |= {"fix_version": "3.1.0", "release_at": "2026-12-18T22:00:00+08:00"}

    proposed = api["owner"].act(key, "propose_plan", **fields, needs_other_department=False)

    assert proposed.status_code == 200, proposed.json()
    assert proposed.json()["status"] == "awaiting_approval"
    assert Plan.objects.get(ticket__pk=proposed.json()["id"]).needs_other_department


def test_the_same_plan_on_an_ordinary_ticket_needs_no_approval(api, people):
    key = ticket_in("planning", people=people, plan="service_restart").key

    proposed = api["owner"].act(key, "propose_plan", **PLANS["service_restart"])

    assert proposed.status_code == 200 and proposed.json()["status"] == "in_progress"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"department": "  "}, "department"),
        ({"needed": ""}, "needed"),
        ({"business_reason": "\n"}, "business_reason"),
        ({"desired_date": "2026-11-24"}, "desired_date"),
    ],
)
def test_incomplete_requests_are_refused_naming_the_field(api, changes, field):
    response = api["submitter"].post("/requests/cross-department", {**FORM, **changes})

    assert response.status_code == 422, response.json()
    assert response.json()["details"]["field"] == field
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", [
    {k: v for k, v in FORM.items() if k != "business_reason"},
    {**FORM, "desired_date": "next week"},
    {**FORM, "priority": "urgent"},
])
def test_malformed_requests_are_refused(api, body):
    response = api["submitter"].post("/requests/cross-department", body)

    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    assert not Ticket.objects.exists()


def test_a_contact_is_needed_when_the_requester_has_none(api, make_user):
    nobody = Api(make_user("submitter", email="", phone=""))

    response = nobody.post("/requests/cross-department", {**FORM, "contact": ""})

    assert response.status_code == 422 and response.json()["details"]["field"] == "contact"


def test_refusals_speak_chinese(people):
    response = Api(people["submitter"], "zh-hans").post(
        "/requests/cross-department", {**FORM, "desired_date": "2026-01-01"})

    assert response.status_code == 422
    assert "期望日期" in response.json()["message"]


def test_signing_in_is_required(client):
    response = client.post("/api/v1/requests/cross-department", FORM,
                           content_type="application/json")
    assert response.status_code == 401
