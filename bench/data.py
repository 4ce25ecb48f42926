"""The benchmark's people, modules, tokens and tickets.

Tickets are loaded in bulk through the ORM (``bulk_create``) with the server's own settings,
each with its 'created' timeline event, drawn from fixed-seed distributions that look like a
department's history: most tickets closed or archived, the newest ones open; medium and low
priority dominate; a few busy submitters, modules and engineers carry most of the load.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from opsdesk.accounts.models import Module, ModuleSupport, ProblemType, User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.services import create_api_token, grant_roles
from opsdesk.tickets.choices import Channel, Impact, Priority, SourceKind, Status, Urgency
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.priority import DEFAULT_MATRIX

MODULES = [
    ("user", "用户模块"), ("payment", "支付模块"), ("order", "订单模块"), ("report", "报表模块"),
    ("inventory", "库存模块"), ("crm", "客户管理"), ("finance", "财务系统"), ("hr", "人事系统"),
    ("oa", "办公自动化"), ("mail", "邮件系统"), ("network", "网络"), ("database", "数据库"),
]
DEPARTMENTS = ["运营部", "产品部", "市场部", "财务部", "客服中心", "销售部", "人事部", "物流部"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞鹏辉婷雪琳晨宇欣怡浩然子涵"
SYMPTOMS = [
    "无法登录", "登录失败提示密码错误", "页面加载缓慢", "接口偶发超时", "导出 Excel 中文乱码",
    "数据与财务系统不一致", "定时任务频繁失败", "短信验证码收不到", "报表数据缺失",
    "审批流程卡住不动", "回调通知失败", "消息推送延迟", "查询结果为空", "上传附件失败",
    "打印格式错乱", "权限配置不生效", "页面显示错位", "批量导入报错", "统计口径有误",
    "希望增加筛选条件", "需要新增导出字段", "移动端白屏", "账号被锁定", "单据状态不同步",
]
SCOPES = ["全部用户", "华东区门店", "财务部全体", "部分客户", "个别用户", "客服坐席", "移动端用户"]
ALERT_RULES = [
    ("DiskUsageHigh", "磁盘使用率超过 90%"), ("CPUUsageHigh", "CPU 使用率持续 95%"),
    ("DBConnectionPoolExhausted", "数据库连接池耗尽"), ("HTTP5xxRateHigh", "接口 5xx 比例升高"),
    ("CertificateExpiring", "SSL 证书 7 天后过期"), ("ReplicationLag", "主从复制延迟超过 60 秒"),
    ("MemoryPressure", "内存使用率超过 90%"), ("QueueBacklog", "消息队列积压"),
]
INSPECTIONS = ["日常巡检：备份任务未按时完成", "日常巡检：日志目录占用过大",
               "季度巡检：证书有效期检查", "日常巡检：NTP 时间偏差", "日常巡检：数据库慢查询增多"]
OPEN = [Status.NEW, Status.ASSIGNED, Status.ANALYSING, Status.PLANNING, Status.AWAITING_APPROVAL,
        Status.IN_PROGRESS, Status.WAITING, Status.AWAITING_VERIFICATION]
OPEN_WEIGHTS = [22, 14, 14, 10, 4, 18, 6, 12]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _zipf(n: int, s: float = 1.0) -> list[float]:
    return [1 / (k ** s) for k in range(1, n + 1)]


@dataclass
class People:
    duty: User
    head: User
    owners: list[User]
    support: list[User]
    developers: list[User]
    ops: list[User]
    submitters: list[User]
    modules: list[Module]


def create_people(seed: int = 7) -> People:
    """One duty engineer and one head, six module owners, ten support engineers, developers,
    ops engineers, three hundred submitters across departments, twelve modules."""
    rng = random.Random(seed)
    password = "unused-" + str(rng.random())  # nobody signs in with a password here

    def make(username: str, role: str, department: str = "技术部") -> User:
        user = User(username=username, email=f"{username}@example.com", display_name=_name(rng),
                    department=department, phone=f"138{rng.randrange(10**8):08d}",
                    is_staff=role != Role.SUBMITTER)
        user.set_unusable_password() if role == Role.SUBMITTER else user.set_password(password)
        user.save()
        grant_roles(user=user, roles=[role])
        return user

    with transaction.atomic():
        people = People(
            duty=make("duty", Role.DUTY), head=make("head", Role.HEAD),
            owners=[make(f"owner{i}", Role.OWNER) for i in range(6)],
            support=[make(f"support{i}", Role.SUPPORT) for i in range(10)],
            developers=[make(f"dev{i}", Role.DEVELOPER) for i in range(8)],
            ops=[make(f"ops{i}", Role.OPS) for i in range(6)],
            submitters=[make(f"u{i:03d}", Role.SUBMITTER, rng.choice(DEPARTMENTS))
                         for i in range(300)],
            modules=[],
        )
        for i, (code, name) in enumerate(MODULES):
            module = Module.objects.create(code=code, name=name,
                                           owner=people.owners[i % len(people.owners)])
            people.modules.append(module)
            for problem_type in ProblemType.values:
                ModuleSupport.objects.create(module=module, problem_type=problem_type,
                                             engineer=rng.choice(people.support))
    return people


def token_for(user: User) -> str:
    return create_api_token(user=user, name="bench")[1]


class TicketFactory:
    """Draws ticket rows (and their 'created' events) from the distributions above."""

    def __init__(self, people: People, seed: int) -> None:
        self.p = people
        self.rng = random.Random(seed)
        self.submitter_cum = list(accumulate(_zipf(len(people.submitters), 0.8)))
        self.module_cum = list(accumulate(_zipf(len(people.modules), 0.7)))
        self.support_cum = list(accumulate(_zipf(len(people.support), 0.5)))

    def payload(self) -> dict[str, Any]:
        """A POST /api/v1/tickets body, as the duty engineer files tickets for others."""
        rng = self.rng
        if rng.random() < 0.3:
            rule, symptom = rng.choice(ALERT_RULES)
            host = f"10.0.{rng.randrange(10)}.{rng.randrange(2, 250)}"
            return {
                "title": f"[告警] {host} {symptom}", "impact": "some_users", "urgency": "high",
                "source_kind": "alert", "channel": "alertmanager", "submitter_name": "Alertmanager",
                "alert_host": host, "alert_rule": rule, "alert_level": "critical",
                "alert_symptom": symptom,
            }
        module = rng.choice(self.p.modules)
        symptom = rng.choice(SYMPTOMS)
        body: dict[str, Any] = {
            "title": f"{module.name}{symptom}",
            "impact": rng.choice(Impact.values), "urgency": rng.choice(Urgency.values),
            "description": f"用户反馈：{symptom}，影响{rng.choice(SCOPES)}，请尽快处理。",
            "submitter": rng.choices(self.p.submitters, cum_weights=self.submitter_cum)[0].username,
            "channel": "customer_service",
        }
        if rng.random() < 0.5:
            body["module"] = module.code
        return body

    def rows(self, count: int, start: datetime, end: datetime) -> Iterator[tuple[Ticket, User]]:
        """``count`` tickets submitted between ``start`` and ``end``, oldest first; each with
        the user who filed it (the actor of its 'created' event)."""
        rng, p = self.rng, self.p
        span = (end - start).total_seconds()
        for i in range(count):
            at = start + timedelta(seconds=span * (i + rng.random()) / count)
            age_days = (end - at).total_seconds() / 86400
            yield self._ticket(rng, p, at, age_days)

    def _ticket(self, rng: random.Random, p: People, at: datetime,
                age_days: float) -> tuple[Ticket, User]:
        impact = rng.choices(Impact.values, weights=[3, 20, 55, 22])[0]
        urgency = rng.choices(Urgency.values, weights=[8, 25, 47, 20])[0]
        priority = DEFAULT_MATRIX[Impact(impact)][Urgency(urgency)]
        source = rng.choices(SourceKind.values, weights=[60, 25, 7, 6, 2])[0]
        module = rng.choices(p.modules, cum_weights=self.module_cum)[0]
        # Open tickets are mostly recent; a few linger for weeks. Closed ones get archived.
        if age_days < 3:
            open_chance = 0.9 - 0.25 * age_days
        elif age_days < 60:
            open_chance = 0.05
        else:
            open_chance = 0.004
        if rng.random() < open_chance:
            status = rng.choices(OPEN, weights=OPEN_WEIGHTS)[0]
        else:
            status = Status.ARCHIVED if age_days > 30 and rng.random() < 0.85 else Status.CLOSED
        submitter: User | None = None
        filed_by = p.duty
        channel = Channel.WEB
        text: dict[str, str] = {}
        if source in (SourceKind.USER_REPORT, SourceKind.EMERGENCY):
            submitter = rng.choices(p.submitters, cum_weights=self.submitter_cum)[0]
            filed_by = submitter
            channel = rng.choices([Channel.WEB, Channel.EMAIL, Channel.CUSTOMER_SERVICE,
                                   Channel.API], weights=[55, 25, 12, 8])[0]
            symptom = rng.choice(SYMPTOMS)
            title = f"{module.name}{symptom}"
            description = (f"{submitter.department}{submitter.display_name}反馈：{symptom}，"
                           f"影响{rng.choice(SCOPES)}。请协助排查。")
            name = str(submitter)
        elif source == SourceKind.ALERT:
            rule, symptom = rng.choice(ALERT_RULES)
            host = f"10.0.{rng.randrange(10)}.{rng.randrange(2, 250)}"
            channel = rng.choice([Channel.ALERTMANAGER, Channel.ZABBIX])
            title = f"[告警] {host} {symptom}"
            description = f"{rule} 在 {host} 上触发：{symptom}。"
            name = "Alertmanager" if channel == Channel.ALERTMANAGER else "Zabbix"
            text = {"alert_host": host, "alert_rule": rule, "alert_level": "critical",
                    "alert_symptom": symptom}
        elif source == SourceKind.INSPECTION:
            channel = Channel.INSPECTION
            title = rng.choice(INSPECTIONS)
            description = f"{module.name}巡检发现的问题，详见巡检报告。"
            submitter, name = p.duty, str(p.duty)
        else:
            channel = Channel.EMAIL
            department = rng.choice(DEPARTMENTS)
            title = f"{department}需求：{module.name}{rng.choice(SYMPTOMS[-6:])}"
            description = f"来自{department}的跨部门需求，附件见邮件。"
            name = f"{department} {_name(rng)}"
        triaged = status != Status.NEW
        if triaged and priority in (Priority.URGENT, Priority.HIGH):
            assignee: User | None = module.owner
        elif triaged:
            assignee = rng.choices(p.support, cum_weights=self.support_cum)[0]
        else:
            assignee = None
        classified = status not in (Status.NEW, Status.ASSIGNED, Status.ANALYSING)
        done = status in (Status.CLOSED, Status.ARCHIVED)
        ticket = Ticket(
            title=title[:200], submitter=submitter, submitter_name=name,
            submitter_department=submitter.department if submitter else "",
            submitter_contact=submitter.contact if submitter else "",
            submitted_at=at, description=description, source_kind=source, channel=channel,
            impact=impact, urgency=urgency, priority=priority, status=status, assignee=assignee,
            module=module if classified or rng.random() < 0.5 else None,
            problem_type=rng.choice(ProblemType.values) if classified else "",
            estimate_minutes=rng.choice((30, 60, 120, 240, 480)) if classified else None,
            deadline_at=at + timedelta(hours=rng.choice((4, 8, 24, 72))) if classified else None,
            cause="配置错误。" if done else "", solution="已修复并验证。" if done else "",
            time_taken_minutes=rng.randrange(10, 600) if done else None,
            # Closed within four days, and never after "now" (the end of the loaded history).
            closed_at=at + timedelta(hours=min(rng.uniform(1, 96), age_days * 24))
            if done else None,
            archived_at=at + timedelta(days=30) if status == Status.ARCHIVED else None,
            version=1 + (0 if not triaged else rng.randrange(2, 9)),
            **text,
        )
        return ticket, filed_by


class SlaClocks:
    """Each loaded ticket's SLA clock, as the SLA app would have left it: stopped (met) for
    closed and archived tickets, running for open ones, under the policy that matches it.

    Due times are wall-clock approximations of business time: the list endpoint reads a clock
    (a join and a summary per row), it does not recompute it. Written against the clock's
    model fields; if the SLA app is absent or they no longer fit, loading goes on without
    clocks and the run says so."""

    def __init__(self) -> None:
        self.policies: dict[tuple[int, str, int | None], Any] = {}
        self.problem: str | None = None
        try:
            from opsdesk.sla import selectors
            from opsdesk.sla.models import Clock
        except ImportError as exc:
            self.problem = f"no SLA clocks loaded: {exc}"
            return
        self.clock_model, self.policy_for = Clock, selectors.policy_for

    def clocks(self, tickets: list[Ticket]) -> list[Any]:
        if self.problem:
            return []
        try:
            return [c for t in tickets if (c := self._clock(t)) is not None]
        except Exception as exc:  # a changed model: measure without clocks, and say so
            self.problem = f"no SLA clocks loaded: {type(exc).__name__}: {exc}"
            return []

    def _clock(self, t: Ticket) -> Any:
        key = (t.priority, t.source_kind, t.module_id)
        if key not in self.policies:
            self.policies[key] = self.policy_for(t)
        policy = self.policies[key]
        if policy is None:
            return None
        at, respond, resolve = t.submitted_at, policy.response_target, policy.resolution_target
        closed_at = t.closed_at
        responded = None if t.status in (Status.NEW, Status.ASSIGNED) else at + respond / 3
        clock = self.clock_model(
            ticket=t, policy=policy, calendar=policy.calendar,
            warning_fraction=policy.warning_fraction, response_target=respond,
            resolution_target=resolve, started_at=at, response_due_at=at + respond,
            responded_at=responded,
            response_time=responded - at if responded else None,
            resolution_due_at=at + resolve,
        )
        if closed_at is not None:
            clock.resolved_at = closed_at
            clock.resolution_time = clock.resolution_spent = closed_at - at
        else:
            clock.running_since = at
            due = [at + resolve] + ([] if responded else [at + respond])
            clock.breach_at = min(due)
            clock.warn_at = at + (clock.breach_at - at) * policy.warning_fraction
            clock.next_check_at = clock.warn_at
        return clock


def bulk_load(factory: TicketFactory, count: int, *, start: datetime, end: datetime,
              batch: int = 2000, sla: SlaClocks | None = None) -> None:
    """Insert ``count`` tickets with their 'created' events, their search documents, some
    collaborators and (with ``sla``) their SLA clocks."""
    from opsdesk.knowledge.services import index_new_tickets

    rows = factory.rows(count, start, end)
    through = Ticket.collaborators.through
    helpers = factory.p.developers + factory.p.ops
    rng = factory.rng
    while True:
        chunk = [row for _ in range(batch) if (row := next(rows, None)) is not None]
        if not chunk:
            break
        with transaction.atomic():
            tickets = Ticket.objects.bulk_create([t for t, _by in chunk])
            TimelineEvent.objects.bulk_create([
                TimelineEvent(
                    ticket=t, kind=TimelineEvent.Kind.CREATED, actor=by, at=t.submitted_at,
                    data={"priority": Priority(t.priority).code, "source_kind": t.source_kind,
                          "channel": t.channel},
                )
                for t, (_t, by) in zip(tickets, chunk, strict=True)
            ])
            index_new_tickets(tickets)  # as filing does: the text searches read this
            through.objects.bulk_create([
                through(ticket_id=t.pk, user_id=rng.choice(helpers).pk)
                for t in tickets
                if t.status not in (Status.NEW, Status.ASSIGNED) and rng.random() < 0.08
            ])
            if sla is not None and (clocks := sla.clocks(tickets)):
                type(clocks[0]).objects.bulk_create(clocks)


def refresh_statistics(*, vacuum: bool = False) -> None:
    """PostgreSQL: ANALYZE, as autovacuum would have done long before a real desk held this
    many tickets (the planner otherwise plans for the empty tables it last saw); with
    ``vacuum``, VACUUM ANALYZE, as autovacuum also does after many inserts: it marks the pages
    all-visible, without which an index-only scan reads the table for each entry. SQLite has
    no statistics unless someone runs ANALYZE, and opsdesk does not, so it is measured as is."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def ticket_count() -> int:
    return Ticket.objects.count()


def newest_submitted_at() -> datetime:
    latest = Ticket.objects.order_by("-id").values_list("submitted_at", flat=True).first()
    return latest or timezone.now()


def oldest_submitted_at() -> datetime:
    first = Ticket.objects.order_by("id").values_list("submitted_at", flat=True).first()
    return first or timezone.now()


def own_ticket_count(user: User) -> int:
    from opsdesk.tickets.selectors import visible_tickets

    return visible_tickets(user).count()


def database_description() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]} (WAL)"
        cursor.execute("show server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"
