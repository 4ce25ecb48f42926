"""Inspections walked through the API: the owner reads the plan, records a run, and each
failed item becomes one ticket; others are refused with a clear answer."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.inspections import services
from opsdesk.inspections.models import RunStatus
from opsdesk.tickets.models import Ticket
from tests.inspections.conftest import SH

pytestmark = pytest.mark.django_db

NINE = datetime(2026, 11, 25, 9, 0, tzinfo=SH)


@pytest.fixture
def run(plan):
    with time_machine.travel(NINE, tick=False):
        (created,) = services.schedule_due_runs()
    return created


def item_ids(plan):
    return [item.pk for item in plan.items.all()]


def inspection_tickets():
    return Ticket.objects.filter(source_kind="inspection")


def test_staff_read_plans_and_runs_by_state(api, plan, run, django_assert_max_num_queries):
    response = api["duty"].get("/inspections/plans")
    assert response.status_code == 200, response.json()
    (listed,) = response.json()
    assert listed["name"] == "支付服务器日常巡检"
    assert listed["owner"]["username"] == plan.owner.username
    assert listed["module"]["code"] == "payment"
    assert listed["schedule"] == "0 9 * * *" and listed["time_zone"] == "Asia/Shanghai"
    assert [item["title"] for item in listed["items"]] == [
        "检查 nginx 错误日志", "检查磁盘使用率", "检查 RAID 状态"]
    assert api["duty"].get(f"/inspections/plans/{plan.pk}").json()["id"] == plan.pk

    with time_machine.travel(datetime(2026, 11, 25, 9, 30, tzinfo=SH), tick=False):
        due = api["owner"].get("/inspections/runs", state="due").json()
        assert api["owner"].get("/inspections/runs", state="overdue").json() == []
    late = datetime(2026, 11, 25, 10, 30, tzinfo=SH)
    with time_machine.travel(late, tick=False), django_assert_max_num_queries(6):
        overdue = api["owner"].get("/inspections/runs", state="overdue", mine=True).json()
    assert [r["id"] for r in due] == [run.pk] and due[0]["state"] == "due"
    assert [r["id"] for r in overdue] == [run.pk] and overdue[0]["state"] == "overdue"
    assert api["owner"].get("/inspections/runs", state="done").json() == []
    assert datetime.fromisoformat(due[0]["due_at"]) == NINE


def test_the_owner_records_a_run_and_a_failed_item_opens_one_ticket(api, people, plan, run):
    nginx, disk, raid = item_ids(plan)
    with time_machine.travel(datetime(2026, 11, 25, 9, 20, tzinfo=SH), tick=False):
        response = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
            {"item": nginx, "outcome": "pass", "evidence": "5xx: 12 条"},
            {"item": disk, "outcome": "fail", "notes": "/data 分区使用率 93%",
             "evidence": "df -h: /dev/sdb1 93%"},
        ]})

    assert response.status_code == 200, response.json()
    detail = response.json()
    assert detail["state"] == "due"
    assert detail["started_by"]["username"] == people["owner"].username
    checklist = {entry["item"]["id"]: entry["result"] for entry in detail["checklist"]}
    assert checklist[nginx]["outcome"] == "pass" and checklist[nginx]["ticket"] is None
    assert checklist[raid] is None
    link = checklist[disk]["ticket"]
    assert link["priority"] == "medium"  # the plan's default: few users, normal urgency

    ticket = api["owner"].read(link["key"])
    assert ticket["source_kind"] == "inspection" and ticket["channel"] == "inspection"
    assert ticket["module"]["code"] == "payment"
    assert "检查磁盘使用率" in ticket["title"] and "支付服务器日常巡检" in ticket["title"]
    assert "/data 分区使用率 93%" in ticket["description"]
    assert "df -h: /dev/sdb1 93%" in ticket["description"]
    assert ticket["submitter"]["username"] == people["owner"].username

    # Submitting the same failure again (and finishing) opens no second ticket.
    response = api["owner"].post(f"/inspections/runs/{run.pk}/results", {
        "finish": True, "results": [
            {"item": disk, "outcome": "fail", "notes": "/data 分区使用率 93%，已通知运维"},
            {"item": raid, "outcome": "na", "notes": "本机无 RAID"},
        ]})
    assert response.status_code == 200, response.json()
    done = response.json()
    assert done["state"] == "done"
    assert done["finished_by"]["username"] == people["owner"].username
    assert inspection_tickets().count() == 1
    assert {e["result"]["ticket"]["key"] for e in done["checklist"] if e["result"]["ticket"]} == {
        link["key"]}
    assert [r["id"] for r in api["owner"].get("/inspections/runs", state="done").json()] == [
        run.pk]


def test_a_failed_item_may_carry_its_own_impact_and_urgency(api, plan, run):
    nginx = item_ids(plan)[0]
    response = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": nginx, "outcome": "fail", "notes": "支付接口全部 502",
         "impact": "all_users", "urgency": "immediate"},
    ]})
    assert response.status_code == 200, response.json()
    (ticket,) = inspection_tickets()
    assert ticket.priority_code == "urgent"


def test_finishing_needs_every_item_and_loses_nothing(api, plan, run):
    nginx, disk, _raid = item_ids(plan)
    api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": nginx, "outcome": "pass"}]})

    response = api["owner"].post(f"/inspections/runs/{run.pk}/results", {
        "finish": True, "results": [{"item": disk, "outcome": "pass"}]})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_field"
    assert body["details"]["missing"] == ["检查 RAID 状态"]
    run.refresh_from_db()
    assert run.status == RunStatus.DUE
    detail = api["owner"].get(f"/inspections/runs/{run.pk}").json()
    recorded = {e["item"]["id"]: e["result"] for e in detail["checklist"]}
    assert recorded[nginx]["outcome"] == "pass" and recorded[disk] is None


def test_a_finished_run_cannot_change(api, plan, run):
    results = [{"item": pk, "outcome": "pass"} for pk in item_ids(plan)]
    assert api["owner"].post(f"/inspections/runs/{run.pk}/results",
                             {"finish": True, "results": results}).status_code == 200

    response = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": item_ids(plan)[0], "outcome": "fail", "notes": "补记"}]})

    assert response.status_code == 409
    assert response.json()["code"] == "run_finished"
    assert inspection_tickets().count() == 0


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"outcome": "fail"}, "notes"),
        ({"outcome": "fail", "notes": "   "}, "notes"),
        ({"outcome": "broken"}, "outcome"),
        ({"outcome": "fail", "notes": "x", "impact": "everyone"}, "impact"),
        ({"outcome": "fail", "notes": "x", "urgency": "now"}, "urgency"),
    ],
)
def test_bad_results_are_refused_naming_the_field(api, plan, run, entry, field):
    response = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": item_ids(plan)[0], **entry}]})

    assert response.status_code == 422, response.json()
    assert response.json()["details"]["field"] == field
    assert inspection_tickets().count() == 0
    assert not run.results.exists()


def test_items_of_another_plan_or_given_twice_are_refused(api, people, plan, run):
    first = item_ids(plan)[0]
    twice = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": first, "outcome": "pass"}, {"item": first, "outcome": "pass"}]})
    unknown = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": 999999, "outcome": "pass"}]})
    misspelt = api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": first, "outcom": "pass"}]})

    assert twice.status_code == unknown.status_code == misspelt.status_code == 422
    assert "999999" in unknown.json()["message"]
    assert not run.results.exists()


def test_who_may_record(api, people, plan, run):
    body = {"results": [{"item": item_ids(plan)[0], "outcome": "pass"}]}

    refused = api["support"].post(f"/inspections/runs/{run.pk}/results", body)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api["submitter"].post(f"/inspections/runs/{run.pk}/results", body).status_code == 403
    assert api["submitter"].get("/inspections/plans").status_code == 403
    assert api["submitter"].get(f"/inspections/runs/{run.pk}").status_code == 403
    assert api["duty"].post(f"/inspections/runs/{run.pk}/results", body).status_code == 200

    people["support"].user_permissions.add(
        Permission.objects.get(codename="record_inspection"))
    assert api["support"].post(f"/inspections/runs/{run.pk}/results", body).status_code == 200


def test_unknown_runs_and_plans_are_404(api):
    assert api["owner"].get("/inspections/runs/424242").status_code == 404
    assert api["owner"].get("/inspections/plans/424242").status_code == 404
    bad_state = api["owner"].get("/inspections/runs", state="late")
    assert bad_state.status_code == 422
    assert [e["field"] for e in bad_state.json()["details"]["errors"]] == ["state"]


def test_evidence_files_go_to_the_failed_items_ticket(api, plan, run):
    nginx, disk, _raid = item_ids(plan)
    api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": nginx, "outcome": "pass"},
        {"item": disk, "outcome": "fail", "notes": "/data 93%"}]})
    screenshot = SimpleUploadedFile("磁盘.png", b"\x89PNG fake", content_type="image/png")

    response = api["owner"].client.post(
        f"/api/v1/inspections/runs/{run.pk}/items/{disk}/evidence", {"file": screenshot})

    assert response.status_code == 201, response.json()
    (ticket,) = inspection_tickets()
    assert [a.name for a in ticket.attachments.all()] == ["磁盘.png"]
    passed = api["owner"].client.post(
        f"/api/v1/inspections/runs/{run.pk}/items/{nginx}/evidence",
        {"file": SimpleUploadedFile("log.txt", b"ok")})
    assert passed.status_code == 409 and passed.json()["code"] == "no_ticket"


def test_an_evidence_file_over_the_limit_is_refused_before_it_is_read(api, plan, run, settings):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 1024
    _nginx, disk, _raid = item_ids(plan)
    api["owner"].post(f"/inspections/runs/{run.pk}/results", {"results": [
        {"item": disk, "outcome": "fail", "notes": "/data 93%"}]})

    response = api["owner"].client.post(
        f"/api/v1/inspections/runs/{run.pk}/items/{disk}/evidence",
        {"file": SimpleUploadedFile("dump.log", b"x" * 4096)})

    assert (response.status_code, response.json()["code"]) == (413, "attachment_too_large")
    (ticket,) = inspection_tickets()
    assert not ticket.attachments.exists()
