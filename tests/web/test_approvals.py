"""The department head's approval inbox."""

from opsdesk.tickets.choices import Status
from tests.factories import ticket_in
from tests.web.conftest import text


def test_the_inbox_lists_plans_with_their_risk_flags(people, browser_as):
    code_fix = ticket_in("awaiting_approval", people=people, title="登录会话过期")
    other = ticket_in("awaiting_approval", people=people, plan="cross_department",
                      title="对账流程改造")
    page = text(browser_as(people["head"]).get("/approvals/"))
    assert code_fix.key in page and other.key in page
    assert "修复登录接口的会话过期判断" in page and "2.3.1" in page
    assert "涉及代码修改" in page and "需要跨部门协作" in page


def test_approve_in_one_step(people, browser_as):
    ticket = ticket_in("awaiting_approval", people=people)
    client = browser_as(people["head"])
    response = client.post(f"/approvals/{ticket.key}", {
        "version": ticket.version, "decision": "approve", "text": "同意，周末发布"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.current_plan.approved_by == people["head"]
    page = text(client.get("/approvals/"))
    assert f"{ticket.key} 已批准" in page and f'id="{ticket.key}"' not in page


def test_reject_needs_the_reason(people, browser_as):
    ticket = ticket_in("awaiting_approval", people=people)
    client = browser_as(people["head"])
    refused = client.post(f"/approvals/{ticket.key}",
                          {"version": ticket.version, "decision": "reject", "text": ""})
    assert refused.status_code == 422
    assert "原因" in text(refused)
    ticket.refresh_from_db()
    assert ticket.status == Status.AWAITING_APPROVAL
    client.post(f"/approvals/{ticket.key}", {"version": ticket.version, "decision": "reject",
                                             "text": "发布窗口冲突"})
    ticket.refresh_from_db()
    assert ticket.status == Status.PLANNING


def test_only_the_head_decides(people, browser_as):
    ticket = ticket_in("awaiting_approval", people=people)
    response = browser_as(people["owner"]).post(
        f"/approvals/{ticket.key}", {"version": ticket.version, "decision": "approve"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.AWAITING_APPROVAL
