"""The archive policy (issue 17, item 5): the worker archives a closed ticket
OPSDESK_ARCHIVE_AFTER_DAYS days after it closed (0: never), the duty engineer at once; an
archived ticket is read-only through the API and on its page, and still found by a search and
in the tickets' export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.runtime.periodic import default_jobs
from opsdesk.tickets.archiving import archive_due
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket
from tests.factories import TicketFactory, ticket_in

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
CLOSED_AT = datetime(2026, 11, 2, 10, 0, tzinfo=SH)


def closed(people, **create) -> Ticket:
    with time_machine.travel(CLOSED_AT, tick=False):
        return ticket_in(Status.CLOSED, people=people, **create)


def archive_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return archive_due()


def test_the_worker_runs_the_archive_policy():
    assert "archive-closed" in [job.name for job in default_jobs()]


def test_the_worker_archives_a_closed_ticket_after_the_configured_days(api, people, settings):
    settings.OPSDESK_ARCHIVE_AFTER_DAYS = 30
    ticket = closed(people)

    assert archive_at(CLOSED_AT + timedelta(days=30) - timedelta(minutes=1)) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    assert archive_at(CLOSED_AT + timedelta(days=30, minutes=1)) == 1
    assert archive_at(CLOSED_AT + timedelta(days=30, minutes=2)) == 0  # once

    read = api["owner"].read(ticket.key)
    assert read["status"] == "archived"
    assert read["archived_at"].startswith("2026-12-02")
    [event] = [e for e in api["owner"].timeline(ticket.key)
               if e["data"].get("action") == "archive"]
    assert event["actor"] is None  # opsdesk, by the policy


def test_zero_days_never_archives(people, settings):
    settings.OPSDESK_ARCHIVE_AFTER_DAYS = 0
    ticket = closed(people)

    assert archive_at(CLOSED_AT + timedelta(days=3650)) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_a_ticket_reopened_before_its_time_is_left_open(api, people, settings):
    settings.OPSDESK_ARCHIVE_AFTER_DAYS = 5
    ticket = closed(people)
    with time_machine.travel(CLOSED_AT + timedelta(days=2), tick=False):
        assert api["submitter"].act(ticket.key, "reopen", reason="又出现了").status_code == 200

    assert archive_at(CLOSED_AT + timedelta(days=6)) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ANALYSING


def test_the_oldest_closed_go_first_and_open_ones_never(people, settings):
    settings.OPSDESK_ARCHIVE_AFTER_DAYS = 1
    older = closed(people)
    with time_machine.travel(CLOSED_AT + timedelta(days=1), tick=False):
        newer = ticket_in(Status.CLOSED, people=people)
    still_open = ticket_in(Status.IN_PROGRESS, people=people)

    assert archive_at(CLOSED_AT + timedelta(days=1, hours=1)) == 1
    assert Ticket.objects.get(pk=older.pk).status == Status.ARCHIVED
    assert Ticket.objects.get(pk=newer.pk).status == Status.CLOSED
    assert archive_at(CLOSED_AT + timedelta(days=2, hours=1)) == 1
    assert Ticket.objects.get(pk=newer.pk).status == Status.ARCHIVED
    assert Ticket.objects.get(pk=still_open.pk).status == Status.IN_PROGRESS


def test_the_duty_engineer_archives_at_once_and_a_submitter_may_not(api, people):
    ticket = closed(people)

    refused = api["submitter"].act(ticket.key, "archive")
    assert refused.status_code == 403, refused.json()
    done = api["duty"].act(ticket.key, "archive")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "archived"


def archived(people, api) -> Ticket:
    """Closed and archived at once, today: within the reopening window."""
    ticket = ticket_in(Status.CLOSED, people=people, title="导出月度报表时卡住")
    assert api["duty"].act(ticket.key, "archive").status_code == 200
    return ticket


def test_every_write_to_an_archived_ticket_is_refused_naming_it(api, people):
    ticket = archived(people, api)
    other = TicketFactory(by=people["submitter"])
    key = ticket.key
    version = api["owner"].read(key)["version"]
    linked = api["owner"].post(f"/tickets/{other.key}/links",
                               {"kind": "related_to", "ticket": key})
    assert linked.status_code == 201, linked.json()  # a later ticket may refer to it
    events = api["owner"].timeline(key)

    refusals = {
        "fields": api["owner"].patch(f"/tickets/{key}",
                                     {"version": version, "fields": {"title": "新"}}),
        "comment": api["submitter"].post(f"/tickets/{key}/comments", {"body": "补充"}),
        "note": api["owner"].post(f"/tickets/{key}/comments",
                                  {"body": "内部备注", "internal": True}),
        "attachment": api["owner"].client.post(
            f"/api/v1/tickets/{key}/attachments",
            {"file": SimpleUploadedFile("log.txt", b"late", content_type="text/plain")}),
        "collaborators": api["duty"].post(f"/tickets/{key}/collaborators",
                                          {"add": [people["ops"].username]}),
        "link": api["owner"].post(f"/tickets/{key}/links",
                                  {"kind": "related_to", "ticket": other.key}),
        "unlink": api["owner"].client.delete(
            f"/api/v1/tickets/{key}/links/{linked.json()['id']}"),
        "worklog": api["owner"].post(f"/tickets/{key}/worklog",
                                     {"duration_minutes": 5, "command": "uptime"}),
        "archive again": api["duty"].act(key, "archive"),
    }

    for what, response in refusals.items():
        assert response.status_code == 409, (what, response.json())
        if what != "archive again":
            assert response.json()["code"] == "read_only", what
            assert f"{key} is Archived and can no longer be changed." == (
                response.json()["message"]), what
    assert api["owner"].timeline(key) == events
    assert api["owner"].read(key)["version"] == version


def test_an_archived_tickets_page_offers_no_form_but_reopening(api, people, browser_as):
    ticket = archived(people, api)

    for who in ("duty", "owner", "submitter"):
        page = browser_as(people[who], "en").get(f"/tickets/{ticket.key}/")
        html = page.content.decode()
        assert page.status_code == 200
        assert "导出月度报表时卡住" in html
        for form in ("/comments", "/attachments", "/links", "/collaborators", "/edit",
                     "/rating", "/steps", "/actions/archive"):
            assert f'action="/tickets/{ticket.key}{form}' not in html, (who, form)
    # Within the reopening window its people may still reopen it, the one way back.
    owner_page = browser_as(people["owner"], "en").get(f"/tickets/{ticket.key}/")
    assert f'action="/tickets/{ticket.key}/actions/reopen"' in owner_page.content.decode()


def test_the_page_refuses_a_form_posted_to_an_archived_ticket(api, people, browser_as):
    ticket = archived(people, api)
    other = TicketFactory(by=people["submitter"])

    link = browser_as(people["owner"], "en").post(
        f"/tickets/{ticket.key}/links", {"kind": "related_to", "ticket": other.key})
    rating = browser_as(people["submitter"], "en").post(
        f"/tickets/{ticket.key}/rating", {"score": "5"})

    assert link.status_code == 409
    assert f"{ticket.key} is Archived and can no longer be changed." in link.content.decode()
    assert rating.status_code == 409
    assert not Ticket.objects.get(pk=ticket.pk).links_out.exists()


def test_an_archived_ticket_is_still_found_and_exported(api, people):
    ticket = archived(people, api)
    ticket_in(Status.IN_PROGRESS, people=people, title="支付回调超时")

    found = api["owner"].get("/tickets", text="报表导出").json()["items"]
    assert [t["key"] for t in found] == [ticket.key]
    assert found[0]["status"] == "archived"
    mine = api["submitter"].get("/tickets", text="报表导出").json()["items"]
    assert [t["key"] for t in mine] == [ticket.key]

    exported = api["owner"].get("/reports/tickets", status="archived", format="csv")
    assert exported.status_code == 200
    assert exported["Content-Disposition"].startswith('attachment; filename="opsdesk-tickets-')
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Key", "Title", "Status"]
    assert [r[:3] for r in rows[1:]] == [[ticket.key, "导出月度报表时卡住", "Archived"]]
    assert rows[1][rows[0].index("Cause")] == "会话过期判断使用了本地时间"

    searched = api["owner"].get("/reports/tickets", text="报表导出", format="xlsx")
    assert searched.status_code == 200 and searched.content[:2] == b"PK"
    assert api["submitter"].get("/reports/tickets").status_code == 403
