"""Who hears what at each stage besides the main walk (test_procedure_mailboxes.py): an
external submitter by mail, a report sent back, replies and notes, collaborators, progress,
reminders and automatic closure, reopening; every message on the timeline."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from opsdesk.accounts.models import User
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.notify.models import Delivery
from opsdesk.tickets.follow_ups import follow_up
from opsdesk.tickets.models import Ticket
from tests.conftest import Api
from tests.factories import PLANS, report
from tests.intake.mail import corpus
from tests.notify.talk import START, Step, kinds, links_in, mailbox, only, reply_by_mail

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def api(cast: dict[str, User]) -> dict[str, Api]:
    return {role: Api(user) for role, user in cast.items()}


def filed(api: dict[str, Api], step: Step, cast: dict[str, User], **fields: Any) -> str:
    """A medium report by the submitter, triaged to the owner; mailboxes emptied."""
    created = step(api["submitter"].post, "/tickets", report(
        title="报表导出乱码", impact="few_users", urgency="normal", **fields))
    assert created.status_code == 201, created.json()
    key = str(created.json()["key"])
    assert step(api["duty"].act, key, "triage",
                assignee=cast["owner"].username).status_code == 200
    mail.outbox.clear()
    return key


def in_progress(api: dict[str, Api], step: Step, key: str, plan: str = "service_restart") -> None:
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "classify", problem_type="environment", module="payment",
         estimate_minutes=60)
    step(api["owner"].act, key, "propose_plan", **PLANS[plan])
    if Ticket.objects.get().status == "awaiting_approval":
        step(api["head"].act, key, "approve")
    mail.outbox.clear()


def resolved(api: dict[str, Api], step: Step, key: str) -> None:
    in_progress(api, step, key)
    step(api["owner"].post, f"/tickets/{key}/worklog",
         {"command": "systemctl restart report-export", "duration_minutes": 5,
          "kind": "shell"})
    answer = step(api["owner"].act, key, "resolve", cause="编码配置错误", solution="改为 UTF-8",
                  time_taken_minutes=20, prevention="配置检查")
    assert answer.status_code == 200, answer.json()


def test_an_external_submitter_hears_every_stage_by_mail_and_answers_by_links(
    cast: dict[str, User], step: Step, api: dict[str, Api], settings: Any,
) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["*"]
    outsider = "wangfang@partner.example"
    raw = corpus.plain(sender=outsider, subject="报表导出乱码", text="导出的报表是乱码。").raw
    step(call_command, "mailgate", stdin=io.BytesIO(raw), stdout=io.StringIO())
    ticket = Ticket.objects.get()
    assert kinds(outsider) == [K.RECEIVED]
    assert "值班人员将很快指派工程师处理" in only(outsider, K.RECEIVED).body

    step(api["duty"].act, ticket.key, "triage", assignee=cast["owner"].username)
    step(api["owner"].act, ticket.key, "acknowledge")
    step(api["owner"].act, ticket.key, "request_info", comment="Which report?")
    reply_by_mail(step, sender=outsider, to=only(outsider, K.QUESTION), text="月度对账报表")
    assert "月度对账报表" in only(cast["owner"].email, K.SUBMITTER_REPLY).body
    ticket.refresh_from_db()
    assert ticket.status == "analysing"

    step(api["owner"].act, ticket.key, "classify", problem_type="environment",
         module="payment", estimate_minutes=60)
    step(api["owner"].act, ticket.key, "propose_plan", **PLANS["service_restart"])
    step(api["owner"].act, ticket.key, "resolve", cause="编码配置错误", solution="改为 UTF-8",
         time_taken_minutes=20, prevention="配置检查")
    links = links_in(only(outsider, K.VERIFY))
    assert step(Client().post, links["confirm"]).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    closed = only(outsider, K.CLOSED)
    assert f"请发邮件重新报告并注明 {ticket.key}" in closed.body
    assert kinds(outsider) == [K.RECEIVED, K.HANDLER_ASSIGNED, K.QUESTION, K.VERIFY, K.CLOSED]
    assert all(d.address == outsider and d.recipient is None
               for d in Delivery.objects.filter(address=outsider))


@pytest.mark.parametrize(("answer", "told"), [
    ("confirm", "{name} confirmed the fix."), ("not_fixed", "{name} says the fix for"),
])
def test_an_external_submitters_answer_by_link_is_recorded_as_hers(
    cast: dict[str, User], step: Step, api: dict[str, Api], settings: Any, answer: str,
    told: str, browser_as: Any,
) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["*"]
    outsider = "wangfang@partner.example"
    raw = corpus.plain(sender=outsider, name="王芳", subject="报表导出乱码",
                       text="导出的报表是乱码。").raw
    step(call_command, "mailgate", stdin=io.BytesIO(raw), stdout=io.StringIO())
    ticket = Ticket.objects.get()
    step(api["duty"].act, ticket.key, "triage", assignee=cast["owner"].username)
    resolved(api, step, ticket.key)

    link = links_in(only(outsider, K.VERIFY))[answer]
    assert step(Client().post, link, {"reason": "还是乱码"}).status_code == 200

    event = ticket.timeline.filter(kind="verification").get()
    assert event.actor is None and event.data["by_name"] == "王芳"
    [entry] = [e for e in api["owner"].timeline(ticket.key) if e["id"] == event.pk]
    assert entry["data"]["by_name"] == "王芳"
    page = browser_as(cast["owner"], "en").get(f"/tickets/{ticket.key}/").content.decode()
    assert re.search(r"<dt>By</dt>\s*<dd>王芳</dd>", page), page
    message = [m for k, m in mailbox(cast["owner"].email)
               if k in (K.TICKET_CLOSED, K.NOT_FIXED)][-1]
    assert told.format(name="王芳") in message.body and "opsdesk" not in message.body


def test_a_report_sent_back_names_what_is_missing_and_her_completion_returns_it(
    cast: dict[str, User], step: Step, api: dict[str, Api], settings: Any,
) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["*"]
    raw = corpus.plain(sender=cast["submitter"].email, subject="报表导出乱码",
                       text="导出的报表是乱码。").raw
    step(call_command, "mailgate", stdin=io.BytesIO(raw), stdout=io.StringIO())
    ticket = Ticket.objects.get()
    assert ticket.submitter == cast["submitter"]
    sent_back = step(api["duty"].act, ticket.key, "send_back", reason="请补充出错时间和报错信息")
    assert sent_back.status_code == 200, sent_back.json()
    message = only(cast["submitter"].email, K.SENT_BACK)
    assert "缺少：" in message.body and "报错信息" in message.body
    assert "请补充出错时间和报错信息" in message.body

    version = api["submitter"].read(ticket.key)["version"]
    edited = step(api["submitter"].patch, f"/tickets/{ticket.key}", {
        "version": version, "fields": {"error_message": "乱码", "occurred_at":
                                       (START - timedelta(hours=2)).isoformat()}})
    assert edited.status_code == 200, edited.json()
    answer = only(cast["duty"].email, K.SUBMITTER_REPLY)
    assert "补充了报告" in answer.body
    assert kinds(cast["submitter"].email) == [K.RECEIVED, K.SENT_BACK]


def test_resuming_without_a_word_says_so_and_no_one_elses_edit_is_hers(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "request_info", comment="Can you try again now?")
    version = api["owner"].read(key)["version"]
    step(api["owner"].patch, f"/tickets/{key}", {"version": version,
                                                 "fields": {"analysis_notes": "locale?"}})
    assert step(api["submitter"].act, key, "resume").status_code == 200
    answer = only(cast["owner"].email, K.SUBMITTER_REPLY)
    assert "(no message)" in answer.body and "completed the report" not in answer.body


def test_replies_reach_the_other_side_and_internal_notes_reach_nobody_outside(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    step(api["owner"].post, f"/tickets/{key}/comments",
         {"body": "We are looking at the export job.", "internal": False})
    step(api["owner"].post, f"/tickets/{key}/comments",
         {"body": "Probably the locale of the new host.", "internal": True})
    assert kinds(cast["submitter"].email) == [K.REPLY]
    assert "We are looking at the export job." in only(cast["submitter"].email, K.REPLY).body

    step(api["submitter"].post, f"/tickets/{key}/comments", {"body": "谢谢，等你们消息。"})
    assert kinds(cast["owner"].email) == [K.SUBMITTER_REPLY]
    assert "no longer waits" not in only(cast["owner"].email, K.SUBMITTER_REPLY).body
    assert kinds(cast["submitter"].email) == [K.REPLY]  # not told of her own words


def test_decisions_reach_the_assignee_and_nobody_hears_of_their_own_act(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "classify", problem_type="code", module="payment",
         estimate_minutes=60)
    step(api["owner"].act, key, "propose_plan", **PLANS["code_fix"])
    step(api["head"].act, key, "reject_plan", reason="发布窗口冲突，请改到周末")
    rejected = only(cast["owner"].email, K.PLAN_REJECTED)
    assert "Reason: 发布窗口冲突，请改到周末" in rejected.body
    assert "rejected plan #1" in rejected.body
    assert kinds(cast["head"].email) == [K.APPROVAL_REQUESTED]
    assert kinds(cast["submitter"].email) == []


def test_a_plan_going_ahead_on_a_stated_reason_is_told_to_the_head(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "classify", problem_type="code", module="payment",
         estimate_minutes=60)
    proposed = step(api["owner"].act, key, "propose_plan", **PLANS["service_restart"],
                    fit_reason="会话缓存泄漏，重启可立即止血，代码修复另排期")
    assert proposed.json()["status"] == "in_progress", proposed.json()

    told = only(cast["head"].email, K.PLAN_EXPLAINED)
    assert told.subject == f"[{key}] 方案凭说明的理由直接执行：报表导出乱码"  # she reads Chinese
    assert f"Alice Owner 为 {key} 制定的方案 #1 与问题类型不明显相符" in told.body
    assert "理由：会话缓存泄漏，重启可立即止血，代码修复另排期" in told.body
    assert kinds(cast["owner"].email) == [] and kinds(cast["submitter"].email) == []


def test_a_plan_that_fits_its_problem_is_not_told_to_the_head(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "classify", problem_type="environment", module="payment",
         estimate_minutes=30)
    step(api["owner"].act, key, "propose_plan", **PLANS["service_restart"])

    assert kinds(cast["head"].email) == []


def test_a_collaborator_hears_he_was_pulled_in_with_the_summary(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    added = step(api["owner"].post, f"/tickets/{key}/collaborators",
                 {"add": [cast["developer"].username]})
    assert added.status_code == 200, added.json()
    message = only(cast["developer"].email, K.COLLABORATOR_ADDED)
    assert message.subject == f"[{key}] You were added to: 报表导出乱码"
    assert "Alice Owner added you to" in message.body
    assert "The problem: 上午 8:40 起运营部同事登录时提示服务器错误。" in message.body
    step(api["owner"].post, f"/tickets/{key}/collaborators",
         {"remove": [cast["developer"].username]})
    assert kinds(cast["developer"].email) == [K.COLLABORATOR_ADDED]
    assert kinds(cast["owner"].email) == []
    # Pulled in again, he hears it again.
    step(api["owner"].post, f"/tickets/{key}/collaborators",
         {"add": [cast["developer"].username]})
    assert kinds(cast["developer"].email) == [K.COLLABORATOR_ADDED, K.COLLABORATOR_ADDED]


def test_progress_is_asked_of_the_assignee_and_told_to_the_submitter(
    cast: dict[str, User], step: Step, api: dict[str, Api], clock: time_machine.Traveller,
) -> None:
    key = filed(api, step, cast)
    in_progress(api, step, key)
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(deadline_at=START + timedelta(hours=1))
    clock.move_to(START + timedelta(hours=2))
    assert step(follow_up) == 1
    asked = only(cast["owner"].email, K.PROGRESS_REQUESTED)
    assert "has passed its deadline of 2026-12-01 03:00 Europe/London" in asked.body

    expected = (START + timedelta(days=1)).isoformat()
    updated = step(api["owner"].act, key, "progress_update", next_step="换一台主机重新导出",
                   expected_completion_at=expected)
    assert updated.status_code == 200, updated.json()
    progress = only(cast["submitter"].email, K.PROGRESS)
    assert "换一台主机重新导出" in progress.body
    assert "预计完成：2026-12-02 10:00 Asia/Shanghai" in progress.body


def test_an_unverified_fix_is_reminded_with_the_same_links_then_closed(
    cast: dict[str, User], step: Step, api: dict[str, Api], clock: time_machine.Traveller,
) -> None:
    key = filed(api, step, cast)
    resolved(api, step, key)
    first = links_in(only(cast["submitter"].email, K.VERIFY))
    clock.move_to(START + timedelta(days=1, hours=2))  # a whole working day later
    assert step(follow_up) == 1
    reminder = only(cast["submitter"].email, K.VERIFY_REMINDER)
    assert "等待您的验证" in reminder.body
    assert links_in(reminder)["confirm"] != first["confirm"]  # signed anew, same answer
    assert Client().get(first["confirm"]).status_code == 200  # the first mail's still work

    clock.move_to(START + timedelta(days=6))
    step(follow_up)
    assert Ticket.objects.get().status == "closed"
    assert "opsdesk 已将其关闭" in only(cast["submitter"].email, K.CLOSED).body
    assert "without an answer, so opsdesk closed it" in only(
        cast["owner"].email, K.TICKET_CLOSED).body
    assert Client().get(first["confirm"]).status_code == 400


def test_reopening_tells_the_assignee_why_and_confirms_it_to_her(
    cast: dict[str, User], step: Step, api: dict[str, Api],
) -> None:
    key = filed(api, step, cast)
    resolved(api, step, key)
    step(api["submitter"].act, key, "confirm")
    mail.outbox.clear()
    reopened = step(api["submitter"].act, key, "reopen", reason="今天上午又乱码了")
    assert reopened.status_code == 200, reopened.json()
    assert "Reason: 今天上午又乱码了" in only(cast["owner"].email, K.REOPENED).body
    assert "原因：今天上午又乱码了" in only(cast["submitter"].email, K.REOPENED).body
    assert len(mail.outbox) == 2


def test_what_the_submitter_is_told_is_on_her_timeline_and_her_page(
    cast: dict[str, User], step: Step, api: dict[str, Api], browser_as: Any,
) -> None:
    key = filed(api, step, cast)
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "request_info", comment="Which browser?")
    told = [e["data"].get("notification") for e in api["submitter"].timeline(key)
            if e["kind"] == "notification"]
    assert told == [K.RECEIVED, K.HANDLER_ASSIGNED, K.QUESTION]  # not the staff's
    staff = [e["data"].get("notification") for e in api["owner"].timeline(key)
             if e["kind"] == "notification"]
    assert K.ASSIGNED in staff and K.TRIAGE_NEEDED in staff

    page = browser_as(cast["submitter"]).get(f"/tickets/{key}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "发给您的消息（3）" in text
    assert "Which browser?" in text
