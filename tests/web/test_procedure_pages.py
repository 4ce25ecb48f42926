"""The procedure's new stages on the pages: a portal report names every missing field at once,
the duty engineer sends a report back, tickets are linked from their pages, a closed ticket is
reopened within the window and reported again after it, steps record their duration, and the
result shows the time taken per person beside each reported figure."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from opsdesk.tickets import services
from opsdesk.tickets.choices import Channel, Status
from opsdesk.tickets.models import Ticket, TicketLink, WorkLogStep
from tests.factories import PLANS, TicketFactory, fields_for, ticket_in
from tests.web.conftest import text

pytestmark = pytest.mark.django_db


def invalid_fields(page: str) -> set[str]:
    return set(re.findall(r'<div class="field invalid"><label for="([a-z_]+)"', page))


def test_a_portal_report_marks_every_missing_field_at_once(people, browser_as):
    client = browser_as(people["submitter"], "en")
    form = text(client.get("/portal/new/"))
    assert form.count('<abbr title="required">*</abbr>') == 6  # title, impact, urgency, …
    assert "unless it is a suggestion or a question" in form

    response = client.post("/portal/new/", {"title": "导出乱码", "impact": "few_users",
                                            "urgency": "normal",
                                            "description": "打开 Excel 后中文乱码"})

    assert response.status_code == 422
    page = text(response)
    assert invalid_fields(page) == {"occurred_at", "impact_scope", "steps_to_reproduce",
                                    "error_message"}
    assert "打开 Excel 后中文乱码" in page  # nothing typed is lost
    assert not Ticket.objects.exists()


def test_the_duty_engineer_sends_a_mailed_report_back_from_its_page(people, browser_as):
    ticket = services.create_ticket(by=None, submitter=people["submitter"], title="登录不了",
                                    impact="some_users", urgency="high", channel=Channel.EMAIL,
                                    description="早上开始登录不了")
    client = browser_as(people["duty"], "en")
    assert 'data-action="send_back"' in text(client.get(f"/tickets/{ticket.key}/"))

    response = client.post(f"/tickets/{ticket.key}/actions/send_back",
                           {"version": ticket.version, "reason": "请补充出错时间和报错信息"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    page = text(browser_as(people["submitter"], "en").get(f"/tickets/{ticket.key}/"))
    assert "请补充出错时间和报错信息" in page and "occurred at" in page


def test_staff_link_tickets_on_the_page_and_both_pages_show_it(people, browser_as):
    first = TicketFactory(by=people["submitter"])
    second = TicketFactory(by=people["submitter"])
    owner = browser_as(people["owner"], "en")

    response = owner.post(f"/tickets/{second.key}/links",
                          {"kind": "related_to", "ticket": first.key})
    refused = owner.post(f"/tickets/{second.key}/links", {"kind": "related_to",
                                                           "ticket": "OPS-999999"})

    assert response.status_code == 302
    assert refused.status_code == 422 and "OPS-999999" in text(refused)
    for ticket, other in ((first, second), (second, first)):
        page = text(owner.get(f"/tickets/{ticket.key}/"))
        assert f'href="/tickets/{other.key}/"' in page and "related to" in page
    submitter_page = text(browser_as(people["submitter"], "en").get(f"/tickets/{first.key}/"))
    assert f'href="/tickets/{second.key}/"' in submitter_page
    assert f'action="/tickets/{first.key}/links"' not in submitter_page  # staff link
    link = TicketLink.objects.get()
    assert owner.post(f"/tickets/{first.key}/links/{link.pk}/delete").status_code == 302
    assert not TicketLink.objects.exists()


def test_a_closed_ticket_is_reopened_from_its_page_within_the_window(people, browser_as):
    ticket = ticket_in(Status.CLOSED, people=people)
    client = browser_as(people["submitter"], "en")
    page = text(client.get(f"/tickets/{ticket.key}/"))
    assert 'data-action="reopen"' in page and "It happened again?" not in page

    client.post(f"/tickets/{ticket.key}/actions/reopen",
                {"version": ticket.version, "reason": "又出现了"})

    ticket.refresh_from_db()
    assert ticket.status == Status.ANALYSING


def test_after_the_window_the_page_files_a_recurrence(people, browser_as, settings):
    settings.OPSDESK_REOPEN_DAYS = 7
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        ticket = ticket_in(Status.CLOSED, people=people)
    client = browser_as(people["submitter"], "en")
    page = text(client.get(f"/tickets/{ticket.key}/"))
    assert 'data-action="reopen"' not in page and "It happened again?" in page

    incomplete = client.post(f"/tickets/{ticket.key}/recurrence",
                             {"description": "又无法登录"})
    assert incomplete.status_code == 422 and "又无法登录" in text(incomplete)
    response = client.post(f"/tickets/{ticket.key}/recurrence", {
        "description": "今天 9:00 起又无法登录", "occurred_at": "2026-11-30T09:00",
        "steps_to_reproduce": "打开登录页并登录", "error_message": "500",
        "impact_scope": "运营部"})

    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 302 and response.url == f"/tickets/{new.key}/"
    assert new.channel == Channel.WEB and new.title == ticket.title
    page = text(client.get(response.url))
    assert "recurrence of" in page and f'href="/tickets/{ticket.key}/"' in page


def test_a_step_records_its_duration_and_the_result_shows_time_per_person(people,
                                                                         browser_as):
    ticket = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart",
                       collaborators=("ops",))
    owner, ops = browser_as(people["owner"], "en"), browser_as(people["ops"], "en")
    missing = owner.post(f"/tickets/{ticket.key}/steps", {"command": "uptime", "kind": "shell",
                                                          "outcome": "succeeded"})
    assert missing.status_code == 422 and "How long the step took" in text(missing)
    owner.post(f"/tickets/{ticket.key}/steps", {"command": "uptime", "kind": "shell",
                                                "outcome": "succeeded", "duration_minutes": "25"})
    ops.post(f"/tickets/{ticket.key}/steps", {"command": "systemctl restart nginx",
                                              "kind": "shell", "outcome": "succeeded",
                                              "duration_minutes": "10"})
    assert WorkLogStep.objects.filter(ticket=ticket).count() == 2
    ticket.refresh_from_db()
    services.do_transition(ticket_id=ticket.pk, action="resolve", by=people["owner"],
                           version=ticket.version, fields=fields_for("resolve", people))

    page = text(owner.get(f"/tickets/{ticket.key}/"))

    logged = re.search(r"<dd data-time-logged>(.*?)</dd>", page, re.S).group(1)
    assert "35 minutes" in logged
    assert f"{people['owner']} 25" in logged and f"{people['ops']} 10" in logged
    assert "Time taken (reported)" in page


def test_the_plan_card_shows_why_a_plan_that_does_not_fit_was_chosen(people, browser_as):
    ticket = ticket_in(Status.PLANNING, people=people)  # a code problem
    services.do_transition(ticket_id=ticket.pk, action="propose_plan", by=people["owner"],
                           version=ticket.version,
                           fields={**PLANS["service_restart"],
                                   "fit_reason": "先重启止血，修复随 2.3.2 发布"})

    page = text(browser_as(people["head"], "en").get(f"/tickets/{ticket.key}/"))

    assert 'data-plan-fit="explained"' in page and "先重启止血，修复随 2.3.2 发布" in page


def test_the_approval_inbox_says_when_a_plan_does_not_fit_the_problem(people, browser_as):
    ticket = ticket_in(Status.PLANNING, people=people)  # a code problem
    services.do_transition(ticket_id=ticket.pk, action="propose_plan", by=people["owner"],
                           version=ticket.version, fields=PLANS["service_restart"])

    inbox = text(browser_as(people["head"], "en").get("/approvals/"))

    assert ticket.key in inbox and "Does not fit the problem type" in inbox
