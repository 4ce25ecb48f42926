"""The whole procedure for one ticket in a real browser: a submitter files it, the duty engineer
triages, the owner analyses and plans, the head approves, the owner logs the work and sends it
for verification, the submitter confirms and rates. In Chinese, and a shorter run in English."""

from __future__ import annotations

import pytest

from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket, WorkLogStep
from tests.factories import payment_module

# Live-server tests commit for real; serialized_rollback brings back the data migrations' rows
# (SLA policies, routing rules, the priority matrix) that earlier such tests emptied.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def fast_refresh(settings):
    settings.OPSDESK_QUEUE_REFRESH_SECONDS = 1


def test_the_whole_procedure_in_chinese(people, people_at_browsers, fast_refresh):
    payment_module(people["owner"])
    duty = people_at_browsers(people["duty"])
    duty.shot("01-duty-workspace-empty")
    assert "待分派" in duty.page.inner_text("#queue-counts")

    submitter = people_at_browsers(people["submitter"])
    submitter.shot("02-submitter-portal")
    submitter.goto("/portal/new/")
    submitter.page.fill("#title", "用户无法登录系统")
    submitter.page.check("input[name=impact][value=some_users]")
    submitter.page.check("input[name=urgency][value=high]")
    submitter.page.fill("#description", "今天上午 9:10 起运营部登录时提示“系统繁忙”。")
    submitter.page.fill("#error_message", "HTTP 503 Service Unavailable")
    submitter.page.fill("#occurred_at", "2026-11-25T09:10")
    submitter.page.fill("#steps_to_reproduce", "1. 打开登录页\n2. 输入账号和密码\n3. 点击登录")
    submitter.page.fill("#impact_scope", "运营部约 30 人")
    submitter.shot("03-submitter-guided-form")
    with submitter.page.expect_navigation():
        submitter.page.click("form.guided button[type=submit]")
    ticket = Ticket.objects.get()
    assert submitter.page.url.endswith(f"/tickets/{ticket.key}/")
    submitter.shot("04-submitter-ticket-filed")

    # The duty engineer's open queue picks the new ticket up without a reload.
    duty.page.wait_for_selector(f"#queue-results >> text={ticket.key}", timeout=10_000)
    assert "fresh" in duty.page.get_attribute(f"tr:has(a:text('{ticket.key}'))", "class")
    duty.shot("05-duty-queue-new-ticket")
    duty.page.click(f"#queue-results a:text('{ticket.key}')")
    duty.act("triage", priority="high", assignee=people["owner"].username, module="payment")
    assert "已分派" in duty.page.inner_text(".status-line")
    duty.shot("06-duty-triaged")

    owner = people_at_browsers(people["owner"])
    assert ticket.key in owner.page.inner_text("#queue-results")
    owner.shot("07-owner-my-tickets")
    owner.goto(f"/tickets/{ticket.key}/")
    owner.act("acknowledge")
    # Classify without the deadline an urgent or high ticket needs: refused on the field.
    owner.act("classify", problem_type="code", module="payment", estimate_minutes="120")
    assert owner.page.locator("details[data-action=classify] .field.invalid").count() == 1
    assert "必填" in owner.page.inner_text("details[data-action=classify]")
    owner.shot("08-owner-classify-refused")
    owner.act("classify", deadline_at="2026-12-01T18:00", analysis_notes="会话过期判断有误")
    owner.act("propose_plan", plan_kind="code_fix", plan_summary="修复会话过期判断并发布 2.3.1",
              fix_version="2.3.1", release_at="2026-12-02T22:00")
    assert "待审批" in owner.page.inner_text(".status-line")
    owner.shot("09-owner-plan-awaiting-approval")

    head = people_at_browsers(people["head"])
    assert head.page.url.endswith("/approvals/")
    assert "涉及代码修改" in head.page.inner_text(f"#{ticket.key}")
    head.shot("10-head-approval-inbox")
    head.page.fill(f"#{ticket.key} textarea[name=text]", "同意，周六窗口发布")
    with head.page.expect_navigation():
        head.page.click(f"#{ticket.key} button[value=approve]")
    assert "已批准" in head.page.inner_text(".messages")
    head.shot("11-head-approved")

    owner.goto(f"/tickets/{ticket.key}/")
    owner.page.fill("#step-command", "kubectl rollout restart deployment/login-api")
    owner.page.fill("input[name=target]", "prod-k8s")
    owner.page.fill("input[name=duration_minutes]", "25")
    with owner.page.expect_navigation():
        owner.page.click("form[action$='/steps'] button[type=submit]")
    assert owner.page.locator("pre.cmd code").inner_text() == (
        "kubectl rollout restart deployment/login-api")
    owner.act("resolve", cause="会话过期判断使用了本地时间", solution="改为 UTC 比较并发布 2.3.1",
              time_taken_minutes="95", prevention="增加跨时区登录回归测试")
    owner.shot("12-owner-sent-for-verification")

    submitter.goto("/portal/")
    assert ticket.key in submitter.page.inner_text("section.attention")
    submitter.goto(f"/tickets/{ticket.key}/")
    submitter.shot("13-submitter-verifies")
    submitter.act("confirm", comment="已经可以登录了，谢谢！")
    submitter.page.check("input[name=score][value='5']")
    with submitter.page.expect_navigation():
        submitter.page.click("form[action$='/rating'] button[type=submit]")
    submitter.shot("14-submitter-closed-and-rated")

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert WorkLogStep.objects.filter(ticket=ticket).count() == 1
    assert ticket.rating.score == 5


def test_a_shorter_run_in_english(people, people_at_browsers):
    submitter = people_at_browsers(people["submitter"], "en-US")
    submitter.goto("/portal/new/")
    assert "Who is affected?" in submitter.page.content()
    submitter.page.fill("#title", "Report export shows garbled Chinese")
    submitter.page.check("input[name=impact][value=few_users]")
    submitter.page.check("input[name=urgency][value=normal]")
    submitter.page.fill("#description", "Chinese text in the exported Excel file is garbled")
    submitter.page.fill("#occurred_at", "2026-11-25T09:10")
    submitter.page.fill("#steps_to_reproduce", "Open the monthly report, export to Excel")
    submitter.page.fill("#error_message", "None shown: the characters are garbled")
    submitter.page.fill("#impact_scope", "The finance team")
    with submitter.page.expect_navigation():
        submitter.page.click("form.guided button[type=submit]")
    submitter.shot("01-submitter-filed")
    key = Ticket.objects.get().key

    duty = people_at_browsers(people["duty"], "en-US")
    assert "Unassigned" in duty.page.inner_text("#queue-counts")
    duty.goto(f"/tickets/{key}/")
    duty.act("triage", priority="medium", assignee=people["support"].username)
    assert "Assigned" in duty.page.inner_text(".status-line")
    duty.shot("02-duty-triaged")

    support = people_at_browsers(people["support"], "en-US")
    support.goto(f"/tickets/{key}/")
    support.act("acknowledge")
    support.act("request_info", comment="Which Excel version do you use?")
    support.shot("03-support-asked")

    submitter.goto(f"/tickets/{key}/")
    submitter.page.fill("#comment-body", "WPS 2023 on Windows 11")
    with submitter.page.expect_navigation():
        submitter.page.click("button[value=reply]")
    assert "Analysing" in submitter.page.inner_text(".status-line")
    submitter.shot("04-submitter-answered")
