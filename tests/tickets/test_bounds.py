"""No input can break the desk for others: dates out of range, overlong text, blank names,
digits that are not ASCII and ids no column can hold are refused where they enter (a clear
4xx, nothing stored), by every door; a stored entry that cannot be described never takes a
page down."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from opsdesk.cross_department.services import submit_request
from opsdesk.emergencies.services import post_status_update
from opsdesk.rendering import json_response
from opsdesk.runtime.repair import repair_unreadable_moments
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import InvalidField
from opsdesk.tickets.models import Ticket, TimelineEvent, WorkLogStep
from tests.factories import TicketFactory, report, ticket_in
from tests.web.conftest import text

pytestmark = pytest.mark.django_db

REPORT = report(title="支付接口超时", impact="all_users", urgency="immediate")
OUT_OF_RANGE = [
    "9999-12-31T23:00:00-10:00",  # past Python's calendar once in UTC
    "0001-01-01T00:00:00+14:00",
    "1899-06-01T08:00:00+08:00",
    "2100-01-01T00:00:00Z",
]


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
def test_a_registration_dated_out_of_range_is_refused_and_stores_nothing(api, moment):
    for field in ("occurred_at", "alert_at"):
        response = api["duty"].post("/tickets", {**REPORT, field: moment})

        assert response.status_code == 422, response.json()
        assert response.json()["details"]["errors"][0]["field"] == f"payload.{field}"
    assert not Ticket.objects.exists()
    assert api["duty"].get("/tickets").status_code == 200


def test_an_occurrence_in_the_future_is_refused(api):
    tomorrow_and_more = (timezone.now() + timedelta(days=2)).isoformat()

    response = api["submitter"].post("/tickets", {**REPORT, "occurred_at": tomorrow_and_more})

    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_a_moment_in_range_is_taken(api):
    response = api["submitter"].post(
        "/tickets", {**REPORT, "occurred_at": "2026-11-25T09:10:00+08:00"})

    assert response.status_code == 201
    assert Ticket.objects.get().occurred_at == datetime.fromisoformat("2026-11-25T01:10:00+00:00")


@pytest.mark.parametrize("moment", ["9999-12-31T23:00", "1800-01-01T09:00"])
def test_the_guided_report_refuses_a_date_out_of_range_and_keeps_what_was_typed(
        people, browser_as, moment):
    response = browser_as(people["submitter"], "en").post("/portal/new/", {
        **REPORT, "description": "从早上开始超时", "occurred_at": moment})

    assert response.status_code == 422
    page = text(response)
    assert "Dates must lie between 2000-01-01 and 2099-12-31" in page
    assert "从早上开始超时" in page
    assert not Ticket.objects.exists()


def test_the_guided_report_is_held_to_the_apis_lengths(people, browser_as, api):
    long_title = "标" * 1000

    page = browser_as(people["submitter"], "en").post("/portal/new/", {
        **REPORT, "title": long_title})
    answer = api["submitter"].post("/tickets", {**REPORT, "title": long_title})

    assert page.status_code == 422
    assert "title may have at most 200 characters (it has 1000)" in text(page)
    assert answer.status_code == 422
    assert not Ticket.objects.exists()


def test_a_deadline_out_of_range_is_refused_by_an_edit(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)

    response = api["owner"].patch(f"/tickets/{ticket.key}", {
        "version": ticket.version, "fields": {"deadline_at": "9999-12-31T23:00:00-10:00"}})

    assert (response.status_code, response.json()["code"]) == (422, "invalid_field")
    ticket.refresh_from_db()
    assert ticket.deadline_at is None


@pytest.mark.parametrize("body", [{"remove": [""]}, {"add": [""]}, {"add": [], "remove": []}])
def test_blank_collaborator_names_are_refused_and_the_page_still_shows(
        api, people, browser_as, body):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    events = TimelineEvent.objects.filter(ticket=ticket).count()

    response = api["owner"].post(f"/tickets/{ticket.key}/collaborators", body)

    assert response.status_code == 422
    assert TimelineEvent.objects.filter(ticket=ticket).count() == events
    assert browser_as(people["owner"]).get(f"/tickets/{ticket.key}/").status_code == 200


def test_an_entry_that_cannot_be_described_never_takes_the_ticket_page_down(
        api, people, browser_as):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    # As an earlier version wrote it before blank names were refused.
    TimelineEvent.objects.create(
        ticket=ticket, kind=TimelineEvent.Kind.FIELDS_CHANGED, actor=people["owner"],
        data={"collaborators": {"added": [], "removed": [None]}, "changed": "garbage"})

    page = browser_as(people["owner"], "en").get(f"/tickets/{ticket.key}/")

    assert page.status_code == 200
    assert api["owner"].get(f"/tickets/{ticket.key}/timeline").status_code == 200


@pytest.mark.parametrize("params", [
    {"assignee": "²"}, {"submitter": "١٢"}, {"module": "²"}, {"assignee": "9" * 30},
])
def test_filters_with_digits_no_id_can_have_find_nothing(api, people, params):
    TicketFactory(by=people["submitter"])

    response = api["duty"].get("/tickets", **params)

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("path", [
    "/tickets/99999999999999999999",
    "/tickets/OPS-99999999999999999999/timeline",
    "/tickets/OPS-²",
])
def test_keys_no_ticket_can_have_are_not_found(api, path):
    response = api["duty"].get(path)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("path", [
    "/inspections/runs/99999999999999999999", "/inspections/plans/0",
    "/tickets/OPS-1/attachments/99999999999999999999",
    "/inspections/runs?plan=99999999999999999999",
])
def test_ids_no_column_can_hold_are_refused(api, path):
    assert api["owner"].get(path).status_code == 422


@pytest.mark.parametrize("url", [
    "/tickets/?assignee=²", "/tickets/?seen=²", "/dashboards/?days=²", "/tickets/?module=¹",
])
def test_pages_with_odd_digits_in_their_filters_still_show(people, browser_as, url):
    assert browser_as(people["duty"]).get(url).status_code == 200


def test_a_form_with_odd_digits_for_its_version_is_refused_not_broken(people, browser_as):
    ticket = ticket_in(Status.NEW, people=people)

    response = browser_as(people["duty"]).post(
        f"/tickets/{ticket.key}/actions/triage", {"version": "²", "priority": "high",
                                               "assignee": people["owner"].username})

    assert response.status_code in (302, 409, 422)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_an_old_moment_is_written_with_an_offset_clients_parse(rf):
    # Before 1901 Shanghai's offset was +08:05:43, which RFC 3339 cannot express.
    old = datetime.fromisoformat("1900-06-01T00:00:00+00:00")

    with timezone.override("Asia/Shanghai"):
        body = json_response(rf.get("/"), {"at": old, "now": datetime(2026, 12, 7, tzinfo=UTC)})

    assert json.loads(body.content) == {"at": "1900-06-01T00:00:00+00:00",
                                        "now": "2026-12-07T08:00:00+08:00"}


def test_text_beyond_what_a_page_can_show_is_refused(api):
    response = api["submitter"].post("/tickets", {**REPORT, "description": "日志" * 60_000})

    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_every_list_still_answers_after_bad_input_was_refused(api, people):
    for moment in OUT_OF_RANGE:
        api["duty"].post("/tickets", {**REPORT, "occurred_at": moment})
    TicketFactory(by=people["submitter"])

    for role in ("duty", "submitter"):
        assert api[role].get("/tickets").status_code == 200
    assert Client().get("/api/v1/ping").status_code == 200


def test_a_page_address_with_an_id_no_column_can_hold_is_not_found(people, browser_as):
    response = browser_as(people["duty"]).post("/tickets/views/99999999999999999999/delete")

    assert response.status_code == 404


def test_a_yes_or_no_field_takes_only_true_or_false(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    comment = api["owner"].post(f"/tickets/{ticket.key}/comments",
                                {"body": "看一下", "internal": 0})
    upload = api["owner"].client.post(
        f"/api/v1/tickets/{ticket.key}/attachments",
        {"file": SimpleUploadedFile("日志.txt", b"x"), "internal": "0"})
    shown = api["owner"].client.post(
        f"/api/v1/tickets/{ticket.key}/attachments",
        {"file": SimpleUploadedFile("日志.txt", b"x"), "internal": "true"})

    assert (comment.status_code, upload.status_code) == (422, 422)
    assert shown.status_code == 201 and shown.json()["internal"] is True


# Every other date a request carries -----------------------------------------------------------

MORE_OUT_OF_RANGE = [*OUT_OF_RANGE, "2999-06-01T08:00:00+08:00", "1850-06-01T08:00:00+08:00"]


@pytest.mark.parametrize("moment", MORE_OUT_OF_RANGE)
def test_a_step_dated_out_of_range_is_refused_and_stores_nothing(api, people, moment):
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")

    response = api["owner"].post(f"/tickets/{ticket.key}/worklog", {
        "command": "systemctl restart nginx", "duration_minutes": 2, "executed_at": moment})

    assert response.status_code == 422, response.json()
    assert response.json()["details"]["errors"][0]["field"] == "payload.executed_at"
    assert not WorkLogStep.objects.exists()
    assert api["owner"].get(f"/tickets/{ticket.key}/worklog").status_code == 200


def test_a_step_dated_in_the_future_is_refused(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")
    the_day_after_tomorrow = (timezone.now() + timedelta(days=2)).isoformat()

    response = api["owner"].post(f"/tickets/{ticket.key}/worklog", {
        "command": "systemctl restart nginx", "duration_minutes": 2,
        "executed_at": the_day_after_tomorrow})

    assert response.status_code == 422
    assert not WorkLogStep.objects.exists()


@pytest.mark.parametrize("moment", [
    datetime.fromisoformat("9999-12-31T23:00:00-10:00"), "2999-06-01T08:00:00+08:00",
    timezone.now() + timedelta(days=2), "soon",
])
def test_the_work_log_service_holds_the_same_bounds(people, moment):
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")

    with pytest.raises(InvalidField) as refused:
        services.add_work_log_step(ticket_id=ticket.pk, by=people["owner"],
                                   command="systemctl restart nginx", duration_minutes=2,
                                   executed_at=moment)

    assert refused.value.details["field"] == "executed_at"
    assert not WorkLogStep.objects.exists()


def test_a_step_dated_in_range_is_recorded_at_that_moment(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart")
    earlier = (timezone.now() - timedelta(minutes=30)).replace(microsecond=0)

    response = api["owner"].post(f"/tickets/{ticket.key}/worklog", {
        "command": "systemctl restart nginx", "duration_minutes": 2,
        "executed_at": earlier.isoformat()})

    assert response.status_code == 201, response.json()
    assert WorkLogStep.objects.get().executed_at == earlier


@pytest.fixture
def emergency(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    declared = api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": "支付全部失败"})
    assert declared.status_code == 201, declared.json()
    return ticket


@pytest.mark.parametrize("moment", MORE_OUT_OF_RANGE)
def test_a_status_update_promising_the_next_out_of_range_is_refused(api, emergency, moment):
    response = api["owner"].post(f"/tickets/{emergency.key}/status-updates", {
        "message": "已切换到备用通道", "next_update_at": moment})

    assert response.status_code == 422, response.json()
    assert response.json()["details"]["errors"][0]["field"] == "payload.next_update_at"
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).exists()
    assert api["duty"].get("/emergencies").status_code == 200


@pytest.mark.parametrize("moment", [
    datetime.fromisoformat("9999-12-31T23:00:00-10:00"), datetime(2999, 6, 1, tzinfo=UTC),
])
def test_the_status_update_service_holds_the_same_bounds(people, emergency, moment):
    with pytest.raises(InvalidField) as refused:
        post_status_update(ticket_id=emergency.pk, by=people["owner"], message="处理中",
                           next_update_at=moment)

    assert refused.value.details["field"] == "next_update_at"
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).exists()


def test_a_next_update_without_an_offset_is_read_in_the_callers_zone(api, emergency):
    soon = timezone.localtime(timezone.now() + timedelta(hours=1)).replace(
        tzinfo=None, microsecond=0)

    response = api["owner"].post(f"/tickets/{emergency.key}/status-updates", {
        "message": "已切换到备用通道", "next_update_at": soon.isoformat()})

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("day", ["9999-12-31", "1850-01-01", "2100-01-01"])
def test_a_cross_department_request_desired_out_of_range_is_refused(api, day):
    response = api["submitter"].post("/requests/cross-department", {
        "department": "产品部", "needed": "对账文件下载接口", "business_reason": "每日对账",
        "desired_date": day})

    assert response.status_code == 422, response.json()
    assert response.json()["details"]["errors"][0]["field"] == "payload.desired_date"
    assert not Ticket.objects.exists()


def test_the_cross_department_service_holds_the_same_bounds(people):
    with pytest.raises(InvalidField) as refused:
        submit_request(by=people["submitter"], department="产品部", needed="对账文件下载接口",
                       business_reason="每日对账", desired_date=date(9999, 12, 31))

    assert refused.value.details["field"] == "desired_date"
    assert not Ticket.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="only PostgreSQL could store moments Python cannot read")
def test_moments_stored_before_the_bounds_are_repaired_so_lists_load_again(api):
    ticket = Ticket.objects.get(pk=api["submitter"].post("/tickets", REPORT).json()["id"])
    with connection.cursor() as cursor:  # what a desk stored before its inputs were bounded
        cursor.execute("UPDATE tickets_ticket SET occurred_at = '10000-01-01 09:00+00',"
                       " submitted_at = '10000-01-01 09:00+00' WHERE id = %s", [ticket.pk])
    with pytest.raises(Exception, match="year"):
        Ticket.objects.get(pk=ticket.pk)

    repair_unreadable_moments(None, connection.schema_editor())

    assert [row["id"] for row in api["duty"].get("/tickets").json()["items"]] == [ticket.pk]
    shown = api["duty"].get(f"/tickets/{ticket.key}")
    assert shown.status_code == 200 and shown.json()["occurred_at"] is None
    assert Ticket.objects.get(pk=ticket.pk).submitted_at.year == 9999
