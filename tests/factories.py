"""factory-boy factories: the one place tests build people, modules and tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.services import grant_roles
from opsdesk.tickets import services
from opsdesk.tickets.choices import Impact, PlanKind, Status, Urgency
from opsdesk.tickets.models import Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    department = "技术部"
    password = factory.django.Password("secret-password-1")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            grant_roles(user=self, roles=extracted)


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"module{n}")
    name = factory.Sequence(lambda n: f"模块{n}")
    owner = factory.SubFactory(UserFactory)


class TicketFactory(factory.Factory):
    """A problem registered through the service, so that it has its first timeline event."""

    class Meta:
        model = Ticket

    by = factory.SubFactory(UserFactory, roles=[Role.SUBMITTER])
    title = factory.Sequence(lambda n: f"用户无法登录系统 #{n}")
    description = "登录页提示“服务器错误”，影响运营部全部同事。"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    steps_to_reproduce = "1. 打开登录页\n2. 输入账号和密码\n3. 点击“登录”"
    error_message = "500 Internal Server Error"
    impact_scope = "运营部约 30 人无法登录"
    impact = Impact.SOME_USERS
    urgency = Urgency.HIGH

    @classmethod
    def _create(cls, model_class: type[Ticket], *args: Any, **kwargs: Any) -> Ticket:
        return services.create_ticket(**kwargs)


def report(**fields: Any) -> dict[str, Any]:
    """A person's complete report as the API takes it (tickets/registration.py: the portal
    and the API ask for all of it), with ``fields`` instead of the defaults."""
    return {
        "title": "用户无法登录系统", "impact": "some_users", "urgency": "high",
        "description": "上午 8:40 起运营部同事登录时提示服务器错误。",
        # Before every moment a test travels to: a report built outside the travel is still
        # of something that already happened.
        "occurred_at": "2024-12-02T09:30:00+08:00",
        "steps_to_reproduce": "1. 打开登录页\n2. 输入账号和密码\n3. 点击“登录”",
        "error_message": "500 Internal Server Error",
        "impact_scope": "运营部约 30 人无法登录",
        **fields,
    }


def payment_module(owner: User) -> Module:
    return ModuleFactory(code="payment", name="支付模块", owner=owner)


# Plans by the procedure's risk: the first three need the department head's approval.
PLANS: dict[str, dict[str, Any]] = {
    "code_fix": {
        "plan_kind": PlanKind.CODE_FIX, "plan_summary": "修复登录接口的会话过期判断",
        "fix_version": "2.3.1", "release_at": "2026-12-02T22:00:00+08:00",
    },
    "major_environment_change": {
        "plan_kind": PlanKind.ENVIRONMENT_CHANGE, "plan_summary": "数据库主库扩容到 32 核",
        "major_environment_change": True,
    },
    "cross_department": {
        "plan_kind": PlanKind.REQUIREMENT_DELIVERY, "plan_summary": "与产品部一起改造对账流程",
        "delivery_schedule": "12 月第二周评审，第三周交付", "needs_other_department": True,
    },
    "service_restart": {
        "plan_kind": PlanKind.SERVICE_RESTART, "plan_summary": "重启 nginx 释放挂起的连接",
    },
}


def fields_for(action: str, people: dict[str, User]) -> dict[str, Any]:
    """Fields that satisfy ``action`` in the workflow table (as API input: strings, usernames)."""
    reason = {"reason": "重复提交，见上一张工单"}
    return {
        "triage": {"assignee": people["owner"].username},
        "send_back": {"reason": "请补充出错的时间、操作步骤和报错信息"},
        "reassign": {"assignee": people["support"].username, "reason": "按问题类型转给支持人员"},
        "dismiss": reason,
        "acknowledge": {},
        "classify": {
            "problem_type": "code", "module": "payment", "estimate_minutes": 120,
            "deadline_at": "2026-12-01T18:00:00+08:00",
        },
        "propose_plan": PLANS["code_fix"],
        "approve": {},
        "reject_plan": {"reason": "发布窗口冲突，请改到周末"},
        "revise_plan": {"reason": "重启后问题复现，需要修改代码"},
        "escalate": {"reason": "需要采购新的服务器资源"},
        "progress_update": {
            "next_step": "今晚发布 2.3.1 修复会话过期判断",
            "expected_completion_at": (timezone.now() + timedelta(days=1)).isoformat(),
        },
        "request_progress": {},
        "request_info": {"comment": "请提供浏览器版本和出错时间"},
        "resume": {},
        "resolve": {
            "cause": "会话过期判断使用了本地时间", "solution": "改为 UTC 比较并发布 2.3.1",
            "time_taken_minutes": 95, "prevention": "增加跨时区的登录回归测试",
        },
        "confirm": {},
        "reject_fix": {"reason": "下午三点仍然无法登录"},
        "close_with_evidence": {"verification_evidence": "nginx 日志 15:02 起无 502"},
        "remind_verification": {},
        "auto_close": {},
        "archive": {},
        "reopen": {"reason": "今天上午又无法登录了"},
    }[action]


# The problem type each of the PLANS answers (tickets/risk.py): a ticket walked to a plan is
# classified so that its plan fits.
PLAN_PROBLEM = {"code_fix": "code", "major_environment_change": "environment",
                "cross_department": "requirement", "service_restart": "environment"}


# How the procedure reaches each state: the state before it, the action, and who takes it.
ROUTE: dict[Status, tuple[Status, str, str]] = {
    Status.ASSIGNED: (Status.NEW, "triage", "duty"),
    Status.ANALYSING: (Status.ASSIGNED, "acknowledge", "owner"),
    Status.PLANNING: (Status.ANALYSING, "classify", "owner"),
    Status.AWAITING_APPROVAL: (Status.PLANNING, "propose_plan", "owner"),
    Status.IN_PROGRESS: (Status.AWAITING_APPROVAL, "approve", "head"),
    Status.WAITING: (Status.IN_PROGRESS, "request_info", "owner"),
    Status.AWAITING_VERIFICATION: (Status.IN_PROGRESS, "resolve", "owner"),
    Status.CLOSED: (Status.AWAITING_VERIFICATION, "confirm", "submitter"),
    Status.ARCHIVED: (Status.CLOSED, "archive", "duty"),
}


def ticket_in(
    status: str, *, people: dict[str, User], collaborators: tuple[str, ...] = (),
    plan: str = "code_fix", **create: Any,
) -> Ticket:
    """A ticket filed by ``people["submitter"]``, assigned to ``people["owner"]`` and walked
    through the services into ``status`` the way the procedure gets there, with one of the
    ``PLANS`` (a plan without risk skips the approval)."""
    payment_module(people["owner"])
    ticket = TicketFactory(by=people["submitter"], **create)
    if collaborators:
        services.set_collaborators(
            ticket_id=ticket.pk, by=people["duty"],
            add=[people[name].username for name in collaborators],
        )
    for action, who in _route_to(Status(status)):
        ticket.refresh_from_db()
        if action == "approve" and ticket.status == Status.IN_PROGRESS:
            continue
        fields = PLANS[plan] if action == "propose_plan" else fields_for(action, people)
        if action == "classify":
            fields = {**fields, "problem_type": PLAN_PROBLEM[plan]}
        ticket = services.do_transition(
            ticket_id=ticket.pk, action=action, by=people[who], version=ticket.version,
            fields=fields,
        )
    ticket.refresh_from_db()
    return ticket


def _route_to(status: Status) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    while status != Status.NEW:
        status, action, who = ROUTE[status]
        steps.insert(0, (action, who))
    return steps
