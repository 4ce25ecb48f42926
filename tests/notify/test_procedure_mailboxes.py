"""The whole procedure walked through the API as each role would, reading every mailbox: each
person receives what their stage requires, once, in their language and zone, and nothing more.

A zh-Hans submitter (Asia/Shanghai) reports a problem; an English module owner (Europe/London)
handles it; the duty engineer triages; the department head approves. The submitter answers a
question by mail, says "not fixed" through the link in her mail, and confirms the second fix
the same way, never signing in.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from opsdesk.accounts.models import User
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.tickets.models import Ticket
from tests.conftest import Api
from tests.factories import PLANS, report
from tests.notify.talk import START, Step, kinds, links_in, mailbox, only, reply_by_mail


@pytest.mark.usefixtures("clock")
def test_every_role_hears_its_stage_once_in_its_language(
    cast: dict[str, User], step: Step,
) -> None:
    api = {role: Api(user) for role, user in cast.items()}
    submitter, owner, head, duty = (cast[r].email for r in ("submitter", "owner", "head", "duty"))

    # 1. Registration: the submitter files; no rule places it, so the duty engineer triages.
    created = step(api["submitter"].post, "/tickets", report(
        title="支付回调超时", impact="few_users", urgency="normal"))
    assert created.status_code == 201, created.json()
    key = created.json()["key"]
    assert kinds(submitter) == [K.RECEIVED]
    receipt = only(submitter, K.RECEIVED)
    assert receipt.subject == f"[{key}] 已受理：支付回调超时"
    assert f"已受理您的报告，编号 {key}。" in receipt.body
    # Medium: a first response within 2 business hours, said on her Shanghai clock.
    assert "首次响应截止：2026-12-01 12:00 Asia/Shanghai" in receipt.body
    assert kinds(duty) == [K.TRIAGE_NEEDED]

    assert step(api["duty"].act, key, "triage", assignee=cast["owner"].username).status_code == 200
    assert kinds(owner) == [K.ASSIGNED]
    assert kinds(submitter) == [K.RECEIVED, K.HANDLER_ASSIGNED]
    assert "Alice Owner" in only(submitter, K.HANDLER_ASSIGNED).body

    # 2. Analysis: a question for the submitter, answered by mail.
    step(api["owner"].act, key, "acknowledge")
    step(api["owner"].act, key, "request_info", comment="Which browser, and since when?")
    question = only(submitter, K.QUESTION)
    assert "Which browser, and since when?" in question.body
    assert "回复这封邮件" in question.body
    reply_by_mail(step, sender=submitter, to=question, text="Chrome 131，从昨天下午开始。")
    assert Ticket.objects.get().status == "analysing"
    answer = only(owner, K.SUBMITTER_REPLY)
    assert "Chrome 131，从昨天下午开始。" in answer.body
    assert "no longer waits for the submitter" in answer.body

    step(api["owner"].act, key, "classify", problem_type="code", module="payment",
         estimate_minutes=120, deadline_at="2026-12-01T18:00:00+08:00")

    # 3. Handling: a code fix waits for the head, who approves.
    step(api["owner"].act, key, "propose_plan", **PLANS["code_fix"])
    assert kinds(head) == [K.APPROVAL_REQUESTED]
    step(api["head"].act, key, "approve")
    approved = only(owner, K.PLAN_APPROVED)
    assert approved.subject == f"[{key}] Plan approved: 支付回调超时"
    # The deadline on the owner's London clock.
    assert "Deadline: 2026-12-01 10:00 Europe/London" in approved.body
    logged = step(api["owner"].post, f"/tickets/{key}/worklog",
                  {"command": "deploy payment 2.3.1", "kind": "deploy", "duration_minutes": 40})
    assert logged.status_code == 201, logged.json()

    # 4. Result feedback: she says "not fixed" through the link, never signing in.
    step(api["owner"].act, key, "resolve", cause="Session expiry compared local times",
         solution="Compare in UTC; release 2.3.1", time_taken_minutes=95,
         prevention="Cross-zone login regression tests")
    first = only(submitter, K.VERIFY)
    assert "原因：Session expiry compared local times" in first.body
    assert "耗时：1 小时 35 分钟" in first.body
    assert "预防措施：Cross-zone login regression tests" in first.body
    first_links = links_in(first)
    stranger = Client()
    page = stranger.get(first_links["not_fixed"])
    assert page.status_code == 200
    assert Ticket.objects.get().status == "awaiting_verification"  # opening changes nothing
    said = step(stranger.post, first_links["not_fixed"], {"reason": "下午三点仍然无法登录"})
    assert said.status_code == 200
    assert Ticket.objects.get().status == "planning"
    not_fixed = only(owner, K.NOT_FIXED)
    assert "下午三点仍然无法登录" in not_fixed.body
    assert kinds(head) == [K.APPROVAL_REQUESTED, K.NOT_FIXED]  # the failed plan needed approval

    # The next plan, approved again, and a second fix.
    expected = (START + timedelta(days=1)).isoformat()
    step(api["owner"].act, key, "propose_plan", **PLANS["code_fix"],
         expected_completion_at=expected)
    step(api["head"].act, key, "approve")
    step(api["owner"].post, f"/tickets/{key}/worklog",
         {"command": "deploy payment 2.3.2", "kind": "deploy", "duration_minutes": 30})
    step(api["owner"].act, key, "resolve", cause="A second clock in the token cache",
         solution="Release 2.3.2", time_taken_minutes=30, prevention="One clock")
    second = only(submitter, K.VERIFY, 1)
    assert stranger.get(first_links["confirm"]).status_code == 400  # the first round is over

    # She confirms by the link: closed, and she is told how to reopen.
    assert step(stranger.post, links_in(second)["confirm"]).status_code == 200
    assert Ticket.objects.get().status == "closed"
    closed = only(submitter, K.CLOSED)
    assert "您确认了修复" in closed.body
    assert "2026-12-08 10:00 Asia/Shanghai" in closed.body  # reopen within 7 days
    step(api["owner"].act, key, "archive")

    assert kinds(submitter) == [K.RECEIVED, K.HANDLER_ASSIGNED, K.QUESTION, K.VERIFY, K.VERIFY,
                                K.CLOSED]
    assert kinds(owner) == [K.ASSIGNED, K.SUBMITTER_REPLY, K.PLAN_APPROVED, K.NOT_FIXED,
                            K.PLAN_APPROVED, K.TICKET_CLOSED]
    assert kinds(head) == [K.APPROVAL_REQUESTED, K.NOT_FIXED, K.APPROVAL_REQUESTED]
    assert kinds(duty) == [K.TRIAGE_NEEDED]
    assert len(mail.outbox) == 16  # nobody else, nothing twice
    # The owner reads English throughout: only what people wrote is in Chinese.
    written = ("支付回调超时", "下午三点仍然无法登录", "Chrome 131，从昨天下午开始。",
               "孙丽", "刘洋")
    for kind, message in mailbox(owner):
        text = message.subject + message.body
        for words in written:
            text = text.replace(words, "")
        assert re.search(r"[\u4e00-\u9fff]", text) is None, (kind, text)
