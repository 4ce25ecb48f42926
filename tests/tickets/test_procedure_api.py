"""The five stages of the procedure, walked through the HTTP API by the people who own them."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import PriorityRule
from tests.factories import PLANS, report, ticket_in

pytestmark = pytest.mark.django_db

REGISTRATION = {
    "title": "用户无法登录系统",
    "impact": "some_users",
    "urgency": "high",
    "description": "上午 8:40 起运营部同事登录时提示服务器错误。",
    "occurred_at": "2026-11-25T08:40:00+08:00",
    "steps_to_reproduce": "1. 打开登录页\n2. 输入账号和密码\n3. 点击“登录”",
    "error_message": "500 Internal Server Error",
    "impact_scope": "运营部约 30 人无法登录",
    "submitter_department": "运营部",
    "submitter_contact": "138 0000 0000",
}


def latest(events, kind, **data):
    """The latest event of ``kind`` whose data holds ``data`` (other apps may add their own
    events around a write, so tests look events up rather than count positions)."""
    matching = [e for e in events if e["kind"] == kind and e["data"].items() >= data.items()]
    assert matching, (kind, data, events)
    return matching[-1]


# 1. Intake and registration ------------------------------------------------------------------


def test_a_submitter_registers_a_problem_and_the_duty_engineer_triages_it(api, people, payment):
    response = api["submitter"].post("/tickets", REGISTRATION)

    assert response.status_code == 201, response.json()
    ticket = response.json()
    assert re.fullmatch(r"OPS-\d+", ticket["key"])
    assert ticket["key"] == f"OPS-{ticket['id']}"
    assert ticket["status"] == "new" and ticket["version"] == 1
    # Some users and work blocked: the impact × urgency matrix says high.
    assert ticket["priority"] == "high"
    for name in ("title", "description", "steps_to_reproduce", "error_message",
                 "impact_scope", "submitter_department", "submitter_contact"):
        assert ticket[name] == REGISTRATION[name]
    assert datetime.fromisoformat(ticket["occurred_at"]) == datetime.fromisoformat(
        REGISTRATION["occurred_at"])
    assert ticket["submitter"]["username"] == people["submitter"].username
    assert ticket["submitter_name"] == "孙丽"
    assert ticket["source_kind"] == "user_report" and ticket["channel"] == "api"
    assert ticket["assignee"] is None
    key = ticket["key"]
    created = latest(api["submitter"].timeline(key), "created")
    assert created["actor"]["username"] == people["submitter"].username
    assert created["data"] == {"priority": "high", "source_kind": "user_report", "channel": "api"}

    # Urgent and high go to the module owner.
    response = api["duty"].act(key, "triage", priority="urgent",
                               assignee=people["owner"].username, module="payment")

    assert response.status_code == 200, response.json()
    ticket = response.json()
    assert ticket["status"] == "assigned" and ticket["version"] == 2
    assert ticket["priority"] == "urgent"
    assert ticket["assignee"]["username"] == people["owner"].username
    assert ticket["module"]["code"] == "payment"
    triage = latest(api["duty"].timeline(key), "transition", action="triage")
    assert triage["actor"]["username"] == people["duty"].username
    assert triage["data"]["action"] == "triage"
    assert (triage["data"]["from"], triage["data"]["to"]) == ("new", "assigned")
    changed = triage["data"]["changed"]
    assert changed["priority"] == {"from": "high", "to": "urgent"}
    assert changed["assignee"]["to"]["username"] == people["owner"].username
    assert changed["module"]["to"]["name"] == "支付模块"
    # The assignee now has the ticket's first action of stage 2.
    actions = [a["name"] for a in api["owner"].read(key)["actions"]]
    assert "acknowledge" in actions


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("all_users", "immediate", "urgent"),  # core business down, all users
        ("some_users", "high", "high"),  # a main function broken for some users
        ("few_users", "normal", "medium"),  # a secondary defect
        ("none", "low", "low"),  # a suggestion or question
    ],
)
def test_priority_comes_from_impact_and_urgency(api, impact, urgency, priority):
    response = api["submitter"].post(
        "/tickets", report(title="报表导出很慢", impact=impact, urgency=urgency))

    assert response.status_code == 201, response.json()
    assert response.json()["priority"] == priority


def test_a_priority_matrix_cell_edited_by_the_admin_wins(api):
    PriorityRule.objects.update_or_create(
        impact="none", urgency="low", defaults={"priority": Priority.MEDIUM})

    response = api["submitter"].post(
        "/tickets", report(title="希望增加导出按钮", impact="none", urgency="low"))

    assert response.json()["priority"] == "medium"


def test_staff_file_an_alert_for_someone_else_with_its_alert_fields(api, people):
    alert = {
        "title": "支付网关 CPU 持续过高",
        "impact": "all_users",
        "urgency": "immediate",
        "source_kind": "alert",
        "channel": "alertmanager",
        "submitter": people["submitter"].username,
        "priority": "urgent",
        "alert_host": "10.0.3.15",
        "alert_rule": "HighCpuUsage",
        "alert_level": "critical",
        "alert_at": "2026-11-25T03:12:00+08:00",
        "alert_symptom": "CPU 使用率持续高于 90%",
    }

    response = api["duty"].post("/tickets", alert)

    assert response.status_code == 201, response.json()
    ticket = response.json()
    for name in ("alert_host", "alert_rule", "alert_level", "alert_symptom", "source_kind",
                 "channel", "priority"):
        assert ticket[name] == alert[name]
    assert datetime.fromisoformat(ticket["alert_at"]) == datetime.fromisoformat(alert["alert_at"])
    # Filed by the duty engineer, on behalf of the submitter, who sees it as their own.
    assert ticket["submitter"]["username"] == people["submitter"].username
    assert ticket["submitter_name"] == "孙丽" and ticket["submitter_department"] == "运营部"
    created = latest(api["submitter"].timeline(ticket["key"]), "created")
    assert created["actor"]["username"] == people["duty"].username
    mine = api["submitter"].get("/tickets").json()["items"]
    assert [t["key"] for t in mine] == [ticket["key"]]


# 2. Analysis and classification ---------------------------------------------------------------


def test_the_assignee_confirms_details_with_the_submitter_and_classifies(api, people):
    key = ticket_in(Status.ASSIGNED, people=people).key
    owner, submitter = api["owner"], api["submitter"]

    assert owner.act(key, "acknowledge").json()["status"] == "analysing"
    response = owner.act(key, "request_info", comment="能否复现？请提供浏览器和系统版本。")
    assert response.json()["status"] == "waiting"

    # The submitter's reply resumes the ticket where it was.
    reply = submitter.post(f"/tickets/{key}/comments",
                           {"body": "每次都能复现，Chrome 120 / Windows 11。"})

    assert reply.status_code == 201, reply.json()
    assert owner.read(key)["status"] == "analysing"
    events = owner.timeline(key)
    asked = latest(events, "transition", action="request_info")
    replied = latest(events, "comment")
    resumed = latest(events, "transition", action="resume")
    assert asked["id"] < replied["id"] < resumed["id"]
    assert asked["data"]["comment"] == "能否复现？请提供浏览器和系统版本。"
    assert replied["actor"]["username"] == people["submitter"].username
    assert replied["data"]["body"] == "每次都能复现，Chrome 120 / Windows 11。"
    assert resumed["actor"]["username"] == people["submitter"].username
    assert (resumed["data"]["from"], resumed["data"]["to"]) == ("waiting", "analysing")

    # High priority: a deadline is part of the classification.
    classification = {"problem_type": "code", "module": "payment", "estimate_minutes": 120}
    refused = owner.act(key, "classify", **classification)
    assert refused.status_code == 422
    assert refused.json()["details"]["missing"] == ["deadline_at"]

    response = owner.act(key, "classify", **classification,
                         deadline_at="2026-11-25T12:00:00+08:00",
                         analysis_notes="日志显示会话过期判断错误")

    assert response.status_code == 200, response.json()
    ticket = response.json()
    assert ticket["status"] == "planning"
    assert ticket["problem_type"] == "code" and ticket["module"]["code"] == "payment"
    assert ticket["estimate_minutes"] == 120
    assert datetime.fromisoformat(ticket["deadline_at"]) == datetime.fromisoformat(
        "2026-11-25T12:00:00+08:00")
    assert ticket["analysis_notes"] == "日志显示会话过期判断错误"
    classified = latest(owner.timeline(key), "transition", action="classify")
    assert set(classified["data"]["changed"]) >= {
        "problem_type", "module", "estimate_minutes", "deadline_at"}


def test_medium_priority_is_classified_without_a_deadline(api, people):
    key = ticket_in(Status.ANALYSING, people=people, impact="few_users", urgency="normal").key

    response = api["owner"].act(key, "classify", problem_type="environment",
                                module="payment", estimate_minutes=240)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "planning"
    assert response.json()["deadline_at"] is None


# 3. Handling ----------------------------------------------------------------------------------

SQL_STEP = "UPDATE users\n   SET locked = false,  failed_logins = 0\n WHERE id IN (42, 43);"
SHELL_STEP = "systemctl restart nginx && journalctl -u nginx --since '-5 min' | tail -n 20"
CONFIG_STEP = "max_connections = 400    # /etc/postgresql/16/main/postgresql.conf"
# Each plan's first step, of a kind the plan covers (tickets/risk.py: no SQL under a plan for
# an environment change).
FIRST_STEP = {"code_fix": (SQL_STEP, "sql"), "cross_department": (SQL_STEP, "sql"),
              "major_environment_change": (CONFIG_STEP, "config")}


@pytest.mark.parametrize(
    ("plan", "flag"),
    [
        ("code_fix", "changes_code"),
        ("major_environment_change", "major_environment_change"),
        ("cross_department", "needs_other_department"),
    ],
)
def test_a_risky_plan_waits_for_the_head_and_every_step_is_on_record(api, people, plan, flag):
    key = ticket_in(Status.PLANNING, people=people, collaborators=("ops",), plan=plan).key
    owner = api["owner"]

    proposed = owner.act(key, "propose_plan", **PLANS[plan])

    assert proposed.status_code == 200, proposed.json()
    assert proposed.json()["status"] == "awaiting_approval"
    current = proposed.json()["current_plan"]
    assert current["risk_flags"] == [flag] and current["needs_approval"]
    assert current["approved_at"] is None
    plan_event = latest(owner.timeline(key), "plan")
    assert plan_event["data"]["plan"]["risk_flags"] == [flag]
    assert plan_event["data"]["to"] == "awaiting_approval"

    version = owner.read(key)["version"]
    approved = api["head"].post(f"/tickets/{key}/approve",
                                {"version": version, "reason": "周五晚上窗口执行"})

    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "in_progress"
    assert approved.json()["current_plan"]["approved_by"]["username"] == people["head"].username
    approval = latest(owner.timeline(key), "approval")
    assert approval["actor"]["username"] == people["head"].username
    assert approval["data"]["comment"] == "周五晚上窗口执行"

    command, kind = FIRST_STEP[plan]
    first = owner.post(f"/tickets/{key}/worklog", {
        "command": command, "kind": kind, "target": "pay-db-master", "duration_minutes": 20})
    # The ops engineer pulled into the ticket records what they ran too.
    shell = api["ops"].post(f"/tickets/{key}/worklog", {
        "command": SHELL_STEP, "target": "web-01", "output": "active", "duration_minutes": 5})

    assert (first.status_code, shell.status_code) == (201, 201), (first.json(), shell.json())
    log = owner.get(f"/tickets/{key}/worklog").json()
    assert [(s["command"], s["kind"], s["target"], s["plan"], s["duration_minutes"])
            for s in log] == [
        (command, kind, "pay-db-master", 1, 20),
        (SHELL_STEP, "shell", "web-01", 1, 5),
    ]
    assert [s["executed_by"]["username"] for s in log] == [
        people["owner"].username, people["ops"].username]
    steps = [e for e in owner.timeline(key) if e["kind"] == "work_log"]
    assert [(e["data"]["command"], e["actor"]["username"]) for e in steps] == [
        (command, people["owner"].username), (SHELL_STEP, people["ops"].username)]


def test_the_head_rejects_a_plan_and_a_new_one_is_written(api, people):
    key = ticket_in(Status.AWAITING_APPROVAL, people=people).key
    version = api["head"].read(key)["version"]

    rejected = api["head"].post(f"/tickets/{key}/reject",
                                {"version": version, "reason": "发布窗口冲突，请改到周末"})

    assert rejected.status_code == 200, rejected.json()
    assert rejected.json()["status"] == "planning"
    rejection = latest(api["owner"].timeline(key), "rejection")
    assert rejection["actor"]["username"] == people["head"].username
    assert rejection["data"]["reason"] == "发布窗口冲突，请改到周末"
    assert rejection["data"]["plan"]["number"] == 1

    revised = api["owner"].act(key, "propose_plan", **{
        **PLANS["code_fix"], "release_at": "2026-12-05T22:00:00+08:00"})

    assert revised.json()["status"] == "awaiting_approval"
    assert revised.json()["current_plan"]["number"] == 2


def test_a_blocked_assignee_escalates_and_revises_the_plan(api, people):
    key = ticket_in(Status.IN_PROGRESS, people=people).key
    owner = api["owner"]
    version = owner.read(key)["version"]

    escalated = owner.post(f"/tickets/{key}/escalate",
                           {"version": version, "reason": "修复无效，需要更多服务器资源"})

    assert escalated.status_code == 200, escalated.json()
    assert escalated.json()["status"] == "in_progress"
    assert escalated.json()["escalated_at"] is not None
    event = latest(owner.timeline(key), "escalation")
    assert event["actor"]["username"] == people["owner"].username
    assert event["data"]["reason"] == "修复无效，需要更多服务器资源"

    revised = owner.act(key, "revise_plan", reason="改为扩容方案")
    assert revised.json()["status"] == "planning"
    replanned = owner.act(key, "propose_plan", **PLANS["major_environment_change"])

    assert replanned.json()["status"] == "awaiting_approval"
    assert replanned.json()["current_plan"]["number"] == 2
    # The new plan needs its own approval: the first one's does not carry over.
    refused = owner.post(f"/tickets/{key}/worklog",
                         {"duration_minutes": 5, "command": "kubectl scale --replicas=6"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "approval_required"


def test_a_plan_without_risk_goes_straight_to_work(api, people):
    key = ticket_in(Status.PLANNING, people=people, plan="service_restart").key

    response = api["owner"].act(key, "propose_plan", **PLANS["service_restart"])

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    assert response.json()["current_plan"]["needs_approval"] is False
    step = api["owner"].post(f"/tickets/{key}/worklog",
                             {"duration_minutes": 5, "command": "systemctl restart nginx"})
    assert step.status_code == 201, step.json()


# 4. Result feedback ---------------------------------------------------------------------------

FEEDBACK = {
    "cause": "会话过期判断使用了服务器本地时间",
    "solution": "改为 UTC 比较，发布 2.3.1",
    "time_taken_minutes": 95,
    "prevention": "增加跨时区的登录回归测试",
}


def test_the_fix_is_explained_and_the_submitter_confirms_it(api, people):
    key = ticket_in(Status.IN_PROGRESS, people=people).key

    refused = api["owner"].act(key, "resolve", cause=FEEDBACK["cause"])

    assert refused.status_code == 422
    assert refused.json()["details"]["missing"] == [
        "solution", "time_taken_minutes", "prevention"]

    resolved = api["owner"].act(key, "resolve", **FEEDBACK)

    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "awaiting_verification"
    # The submitter reads the cause, the solution, the time taken and the prevention.
    seen = api["submitter"].read(key)
    assert {name: seen[name] for name in FEEDBACK} == FEEDBACK
    assert [a["name"] for a in seen["actions"]] == ["confirm", "reject_fix"]

    version = seen["version"]
    confirmed = api["submitter"].post(f"/tickets/{key}/verify",
                                      {"version": version, "accepted": True, "reason": "好了"})

    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "closed"
    assert confirmed.json()["closed_at"] is not None
    event = latest(api["submitter"].timeline(key), "verification", action="confirm")
    assert event["actor"]["username"] == people["submitter"].username
    assert event["data"]["comment"] == "好了"


def test_the_submitter_says_it_is_not_fixed_and_the_ticket_is_planned_again(api, people):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people).key
    version = api["submitter"].read(key)["version"]

    rejected = api["submitter"].post(
        f"/tickets/{key}/verify",
        {"version": version, "accepted": False, "reason": "下午三点仍然无法登录"})

    assert rejected.status_code == 200, rejected.json()
    assert rejected.json()["status"] == "planning"
    assert rejected.json()["reopen_count"] == 1
    assert rejected.json()["closed_at"] is None
    event = latest(api["owner"].timeline(key), "verification", action="reject_fix")
    assert event["actor"]["username"] == people["submitter"].username
    assert event["data"]["reason"] == "下午三点仍然无法登录"

    replanned = api["owner"].act(key, "propose_plan", **PLANS["code_fix"],
                                 expected_completion_at="2099-01-01T12:00:00+08:00")
    assert replanned.json()["status"] == "awaiting_approval", replanned.json()
    api["head"].act(key, "approve")
    api["owner"].act(key, "resolve", **FEEDBACK)
    version = api["submitter"].read(key)["version"]
    again = api["submitter"].post(f"/tickets/{key}/verify",
                                  {"version": version, "accepted": False, "reason": "还是不行"})
    assert again.json()["reopen_count"] == 2


def test_where_the_submitter_cannot_verify_evidence_closes_the_ticket(api, people):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people).key

    response = api["owner"].act(key, "close_with_evidence",
                                verification_evidence="对账任务日志：12:00 后无差异记录")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"
    assert response.json()["verification_evidence"] == "对账任务日志：12:00 后无差异记录"
    event = latest(api["owner"].timeline(key), "transition", action="close_with_evidence")
    assert event["actor"]["username"] == people["owner"].username
    evidence = event["data"]["changed"]["verification_evidence"]
    assert evidence["to"] == "对账任务日志：12:00 后无差异记录"


# 5. Closure and archiving ---------------------------------------------------------------------


def test_an_archived_ticket_is_kept_for_review_and_read_only(api, people):
    key = ticket_in(Status.CLOSED, people=people).key

    archived = api["duty"].act(key, "archive")

    assert archived.status_code == 200, archived.json()
    ticket = archived.json()
    assert ticket["status"] == "archived" and ticket["archived_at"] is not None
    # Reopening (within OPSDESK_REOPEN_DAYS of closing) is the only way back.
    assert [a["name"] for a in ticket["actions"]] == ["reopen"]
    assert ticket["editable_fields"] == []
    events = api["owner"].timeline(key)
    assert latest(events, "transition", action="archive")["actor"]["username"] == (
        people["duty"].username)
    version = ticket["version"]

    refusals = [
        api["submitter"].post(f"/tickets/{key}/comments", {"body": "再补充一点"}),
        api["owner"].post(f"/tickets/{key}/worklog",
                          {"duration_minutes": 5, "command": "systemctl restart nginx"}),
        api["owner"].patch(f"/tickets/{key}", {"version": version, "fields": {"title": "新"}}),
    ]

    for response in refusals:
        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "read_only"
        assert key in response.json()["message"]
    # Still readable, by everyone who could read it, exactly as it was.
    assert api["submitter"].read(key)["title"] == ticket["title"]
    assert api["owner"].read(key)["version"] == version
    assert api["owner"].timeline(key) == events
    assert api["owner"].get(f"/tickets/{key}/worklog").json() == []


def test_a_closed_ticket_no_longer_takes_comments_or_edits(api, people):
    key = ticket_in(Status.CLOSED, people=people).key
    version = api["owner"].read(key)["version"]

    comment = api["submitter"].post(f"/tickets/{key}/comments", {"body": "谢谢"})
    edit = api["owner"].patch(f"/tickets/{key}", {"version": version,
                                                  "fields": {"analysis_notes": "补充"}})

    assert (comment.status_code, comment.json()["code"]) == (409, "read_only")
    assert (edit.status_code, edit.json()["code"]) == (409, "read_only")
    assert api["owner"].read(key)["analysis_notes"] == ""
