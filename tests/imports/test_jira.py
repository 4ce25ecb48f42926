"""Importing a Jira export: tickets with their original dates, people matched by display name,
email or username (or kept as names), comments at their times, timelines that say where each
came from, open issues dispatched like filed ones, and everything findable by search."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opsdesk.accounts.models import Module, User
from opsdesk.imports.models import ImportedTicket
from opsdesk.notify.models import Delivery
from opsdesk.sla.models import Clock
from opsdesk.tickets.choices import Channel, Priority, Status
from opsdesk.tickets.models import Ticket
from tests.conftest import Api
from tests.imports.exports import jira_csv, jira_issue

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DESCRIPTION = ('支付渠道回调 "pay.notify" 超时，\n订单停留在“待支付”。\n\n'
               "影响范围：华东区全部商户, 约 1,200 笔订单")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture
def export(people: dict[str, User], payment: Module) -> bytes:
    return jira_csv([
        jira_issue(
            "SUP-101", Summary="支付回调超时，订单状态未更新", Priority="Highest",
            Reporter="孙丽", Assignee=people["support"].email, Creator="孙丽",
            Created="03/Mar/25 9:15 AM", Resolved="05/Mar/25 6:30 PM",
            components=["Payments", "支付模块"], labels=["payment", "callback"],
            Description=DESCRIPTION,
            comments=[
                ("03/Mar/25 10:02 AM", people["support"].username, "已定位：回调签名校验失败"),
                ("04/Mar/25 2:15 PM", "Old Contractor", "证书已轮换;\n请复测"),
                ("05/Mar/25 6:29 PM", "孙丽", "确认修复"),
            ]),
        jira_issue(
            "SUP-102", Summary="报表导出偶发 502", Status="In Progress", Priority="Medium",
            Resolution="", Resolved="", Reporter="外部客户 王先生",
            Assignee=people["owner"].display_name, Created="2025-06-10 08:30",
            **{"Status Category": "In Progress"}),
        jira_issue(
            "SUP-103", Summary="申请开通测试环境账号", Status="To Do", Priority="Low",
            Resolution="", Resolved="", Reporter=people["submitter"].username,
            Created="11/Jun/25 4:05 PM", **{"Status Category": "To Do"}),
    ])


def test_a_closed_issue_arrives_closed_with_its_dates_people_module_and_comments(
        run_import, export, people, payment):
    run = run_import(export, "--from", "jira")

    assert run.code == 0, run.err
    ticket = ImportedTicket.objects.get(system="jira", external_key="SUP-101").ticket
    assert (ticket.status, ticket.priority) == (Status.CLOSED, Priority.URGENT)
    assert ticket.submitted_at == at(2025, 3, 3, 9, 15)
    assert ticket.closed_at == at(2025, 3, 5, 18, 30)
    assert ticket.submitter == people["submitter"]  # by display name
    assert ticket.assignee == people["support"]  # by email
    assert ticket.module == payment  # the component that names a module here
    assert ticket.channel == Channel.TICKET_PLATFORM
    assert ticket.description == DESCRIPTION
    comments = list(ticket.comments.all())
    assert [(c.created_at, c.author, c.author_name, c.body) for c in comments] == [
        (at(2025, 3, 3, 10, 2), people["support"], "", "已定位：回调签名校验失败"),
        (at(2025, 3, 4, 14, 15), None, "Old Contractor", "证书已轮换;\n请复测"),
        (at(2025, 3, 5, 18, 29), people["submitter"], "", "确认修复"),
    ]
    assert all(c.internal for c in comments)  # staff only unless the mapping says otherwise


def test_the_timeline_tells_where_each_ticket_came_from_at_the_original_times(
        run_import, export, people):
    run_import(export, "--from", "jira")

    ticket = ImportedTicket.objects.get(external_key="SUP-101").ticket
    events = list(ticket.timeline.all())
    assert [(e.kind, e.at) for e in events] == [
        ("created", at(2025, 3, 3, 9, 15)),
        ("comment", at(2025, 3, 3, 10, 2)), ("comment", at(2025, 3, 4, 14, 15)),
        ("comment", at(2025, 3, 5, 18, 29)),
        ("transition", at(2025, 3, 5, 18, 30)),
    ]
    origin = {"source": "imported", "system": "jira", "key": "SUP-101",
              "reference": "SUP-101"}
    assert all(origin.items() <= e.data.items() for e in events)
    assert events[0].actor == people["submitter"]
    assert events[0].data["original"] == {
        "status": "Done", "priority": "Highest", "resolution": "Fixed",
        "module": "Payments, 支付模块",
        "reporter": "孙丽", "assignee": people["support"].email}
    assert events[2].data["from"] == "Old Contractor"
    closing = events[-1]
    assert (closing.data["from"], closing.data["to"], closing.data["note"]) == (
        "new", "closed", "Done · Fixed")


def test_open_issues_are_filed_as_if_they_had_arrived_then(run_import, export, people):
    run_import(export, "--from", "jira")

    assigned = ImportedTicket.objects.get(external_key="SUP-102").ticket
    assert (assigned.status, assigned.assignee) == (Status.ASSIGNED, people["owner"])
    assert assigned.submitter is None and assigned.submitter_name == "外部客户 王先生"
    assert assigned.closed_at is None
    waiting = ImportedTicket.objects.get(external_key="SUP-103").ticket
    assert (waiting.status, waiting.assignee) == (Status.NEW, None)
    assert waiting.submitter == people["submitter"]  # by username
    # Dispatched: their SLA clocks run from when they were raised there, so they arrive
    # overdue; the submitter with an account hears the ticket's key.
    for ticket in (assigned, waiting):
        assert ticket.dispatched
        assert Clock.objects.get(ticket=ticket).started_at == ticket.submitted_at
    assert Delivery.objects.filter(ticket=waiting, notification_kind="received").exists()
    closed = ImportedTicket.objects.get(external_key="SUP-101").ticket
    assert not Clock.objects.filter(ticket=closed).exists()
    assert not Delivery.objects.filter(ticket=closed).exists()


def test_an_open_issue_assigned_there_to_someone_who_cannot_hold_it_here_waits_for_triage(
        run_import, people):
    run = run_import(jira_csv([jira_issue(
        "SUP-7", Status="Reopened", Resolution="", Resolved="",
        Assignee=people["developer"].username)]), "--from", "jira")

    assert run.code == 0, run.err
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.assignee) == (Status.NEW, None)


def test_imported_tickets_are_found_by_search_and_internal_comments_only_by_staff(
        run_import, export, api: dict[str, Api]):
    run_import(export, "--from", "jira")
    key = ImportedTicket.objects.get(external_key="SUP-101").ticket.key

    def found(reader: str, text: str) -> list[str]:
        answer = api[reader].get("/tickets", text=text)
        assert answer.status_code == 200, answer.json()
        return [item["key"] for item in answer.json()["items"]]

    assert found("duty", "订单状态") == [key]
    assert found("duty", "签名校验") == [key]  # a comment's words
    assert found("submitter", "订单状态") == [key]  # her own ticket
    assert found("submitter", "签名校验") == []  # a comment for staff only


def test_dates_as_a_jira_running_in_chinese_writes_them(run_import):
    run = run_import(jira_csv([jira_issue(
        "SUP-8", Created="03/三月/25 9:15 上午", Resolved="05/十二月/25 6:30 下午",
        Updated="05/十二月/25 6:31 下午")]), "--from", "jira")

    assert run.code == 0, run.err
    ticket = Ticket.objects.get()
    assert (ticket.submitted_at, ticket.closed_at) == (at(2025, 3, 3, 9, 15),
                                                       at(2025, 12, 5, 18, 30))


def test_an_export_saved_by_excel_with_a_byte_order_mark_reads_its_first_column(run_import):
    run = run_import(jira_csv([jira_issue("SUP-9", Summary="第一列是标题")], bom=True),
                     "--from", "jira")

    assert run.code == 0, run.err
    assert Ticket.objects.get().title == "第一列是标题"


def test_without_reporter_or_resolution_date_the_creator_and_last_update_stand_in(
        run_import, people):
    run = run_import(jira_csv([jira_issue(
        "SUP-10", Reporter="", Creator=people["duty"].username, Resolved="",
        Updated="06/Mar/25 8:00 AM")]), "--from", "jira")

    assert run.code == 0, run.err
    ticket = Ticket.objects.get()
    assert ticket.submitter == people["duty"]
    assert ticket.closed_at == at(2025, 3, 6, 8, 0)
