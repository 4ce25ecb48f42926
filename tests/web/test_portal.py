"""The submitter portal: a guided report, one's own tickets, what waits for one."""

from opsdesk.tickets.choices import Channel, Priority, Status
from opsdesk.tickets.models import Ticket
from tests.factories import TicketFactory, ticket_in
from tests.web.conftest import text


def test_a_guided_report_registers_a_web_ticket_with_priority_from_impact_and_urgency(
        people, browser_as):
    client = browser_as(people["submitter"])
    form = text(client.get("/portal/new/"))
    assert "例如：所有人都无法登录、支付失败。" in form  # a plain-language hint
    assert people["submitter"].department in form  # prefilled
    response = client.post("/portal/new/", {
        "title": "用户无法登录系统", "impact": "all_users", "urgency": "immediate",
        "description": "今天 9:10 起全部用户登录失败", "error_message": "HTTP 503",
        "occurred_at": "2026-11-25T09:10", "submitter_department": "运营部",
        "steps_to_reproduce": "打开登录页，输入账号密码", "impact_scope": "全部用户",
        "submitter_contact": "13800000000"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.key}/"
    assert (ticket.channel, ticket.priority, ticket.submitter) == (
        Channel.WEB, Priority.URGENT, people["submitter"])
    assert ticket.occurred_at.hour == 1  # 09:10 in Shanghai
    assert ticket.error_message == "HTTP 503"


def test_a_report_without_impact_is_refused_and_nothing_is_lost(people, browser_as):
    response = browser_as(people["submitter"]).post("/portal/new/", {
        "title": "导出乱码", "urgency": "normal", "description": "打开 Excel 后中文乱码"})
    assert response.status_code == 422
    page = text(response)
    assert "打开 Excel 后中文乱码" in page and "导出乱码" in page
    assert not Ticket.objects.exists()


def test_the_portal_lists_own_tickets_and_what_waits_for_the_submitter(people, browser_as):
    TicketFactory(by=people["other_submitter"], title="别人的工单")
    waiting = ticket_in("waiting", people=people, title="需要补充信息")
    verify = ticket_in("awaiting_verification", people=people, title="请验证修复")
    page = text(browser_as(people["submitter"]).get("/portal/"))
    assert "别人的工单" not in page
    attention = page.split("等待您处理")[1].split("</section>")[0]
    assert waiting.key in attention and verify.key in attention


def test_the_submitter_verifies_or_rejects_the_fix(people, browser_as):
    ticket = ticket_in("awaiting_verification", people=people)
    client = browser_as(people["submitter"])
    refused = client.post(f"/tickets/{ticket.key}/actions/reject_fix",
                          {"version": ticket.version})
    assert refused.status_code == 422
    client.post(f"/tickets/{ticket.key}/actions/reject_fix",
                {"version": ticket.version, "reason": "下午仍然无法登录"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == (Status.PLANNING, 1)


def test_a_report_just_filed_says_its_routing_is_on_its_way_until_the_worker_did_it(
        people, browser_as, settings):
    from opsdesk.tickets.dispatch import dispatch_all

    settings.OPSDESK_DISPATCH = "worker"
    client = browser_as(people["submitter"], "en")
    response = client.post("/portal/new/", {
        "title": "报表导出超时", "impact": "few_users", "urgency": "normal",
        "description": "导出 10 万行时超时", "occurred_at": "2026-11-25T09:10",
        "steps_to_reproduce": "导出本月报表", "error_message": "504 Gateway Timeout",
        "impact_scope": "财务部"})
    page = text(client.get(response.url))
    # The page updates itself once it is routed (web/views/live.py): no reload asked for.
    assert "Just filed: routing this ticket" in page and "Reload" not in page
    assert dispatch_all() == 1
    page = text(client.get(response.url))
    assert "Just filed" not in page
