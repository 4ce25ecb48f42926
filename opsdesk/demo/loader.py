"""Build the demo: one person per role, three modules, a dozen tickets walked through the real
services (so their timelines are genuine: a fix rejected and planned again with the time per
person, a closed ticket reopened, a duplicate and related tickets linked, a mailed report sent
back), an inspection plan with a recorded run, a cross-department request, an emergency, and a
password printed on every start."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import Module, ModuleSupport, ProblemType, User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.services import grant_roles
from opsdesk.cross_department import services as cross_department
from opsdesk.emergencies import services as emergencies
from opsdesk.inspections import services as inspections
from opsdesk.tickets import services
from opsdesk.tickets.choices import Channel, SourceKind, Status
from opsdesk.tickets.dispatch import dispatch_all
from opsdesk.tickets.models import Ticket

PASSWORD_FILE = settings.DATA_DIR / "demo-password"

PEOPLE = [
    # username, name, department, roles
    ("zhangwei", "张伟", "技术部", [Role.DUTY]),
    ("wanglei", "王磊", "技术部", [Role.OWNER]),
    ("lina", "李娜", "技术部", [Role.SUPPORT]),
    ("zhaoqiang", "赵强", "技术部", [Role.DEVELOPER]),
    ("chenjing", "陈静", "技术部", [Role.OPS]),
    ("liuyang", "刘洋", "技术部", [Role.HEAD]),
    ("sunli", "孙丽", "运营部", [Role.SUBMITTER]),
    ("zhoujie", "周杰", "产品部", [Role.SUBMITTER]),
]
MODULES = [("user", "用户模块"), ("payment", "支付模块"), ("report", "报表模块")]


def demo_is_loaded() -> bool:
    return User.objects.filter(username="zhangwei").exists()


def demo_password() -> str:
    if not PASSWORD_FILE.exists():
        PASSWORD_FILE.write_text(secrets.token_urlsafe(9))
        PASSWORD_FILE.chmod(0o600)
    return PASSWORD_FILE.read_text().strip()


def login_help(base_url: str = "http://127.0.0.1:8000") -> str:
    if not demo_is_loaded():
        return "No demo data: create an account with `opsdesk createsuperuser`."
    rows = [f"  {username:<10} {name}  {', '.join(str(r.label) for r in roles)}"
            for username, name, _dept, roles in PEOPLE]
    return "\n".join([
        f"Sign in at {base_url}/accounts/login/ (browser) or with an API token",
        f"(`opsdesk token create zhangwei`). Every demo user's password: {demo_password()}",
        "  admin      系统管理员  Administrator",
        *rows,
    ])


@transaction.atomic
def load_demo() -> int:
    password = demo_password()
    admin = User.objects.create_superuser("admin", "admin@example.com", password,
                                          display_name="系统管理员")
    people: dict[str, User] = {"admin": admin}
    for username, name, department, roles in PEOPLE:
        user = User.objects.create_user(
            username, f"{username}@example.com", password, display_name=name,
            department=department, phone=f"138{secrets.randbelow(10**8):08d}",
        )
        grant_roles(user=user, roles=roles)
        people[username] = user
    for code, name in MODULES:
        module = Module.objects.create(code=code, name=name, owner=people["wanglei"])
        for problem_type in ProblemType.values:
            ModuleSupport.objects.create(module=module, problem_type=problem_type,
                                         engineer=people["lina"])
    _load_tickets(people)
    _load_inspections(people)
    _load_requests_and_emergencies(people)
    return Ticket.objects.count()


def _walk(ticket: Ticket, by: User, action: str, **fields: Any) -> Ticket:
    ticket.refresh_from_db()
    return services.do_transition(ticket_id=ticket.pk, action=action, by=by,
                                  version=ticket.version, fields=fields)


def _load_tickets(p: dict[str, User]) -> None:
    now = timezone.now()
    duty, owner, support, head = p["zhangwei"], p["wanglei"], p["lina"], p["liuyang"]
    soon = (now + timedelta(hours=2)).isoformat()

    def file(by: User, title: str, impact: str, urgency: str, **extra: Any) -> Ticket:
        extra.setdefault("channel", Channel.WEB)
        if extra["channel"] == Channel.WEB and "source_kind" not in extra:
            # A person's report through the portal holds everything the procedure lists.
            extra = {**_report(title, now), **extra}
        ticket = services.create_ticket(by=by, title=title, impact=impact, urgency=urgency,
                                        **extra)
        dispatch_all()  # routed as it is filed, as the worker does a moment later
        ticket.refresh_from_db()
        return ticket

    def triage(t: Ticket, assignee: User, priority: str | None = None) -> None:
        """The duty engineer assigns what the routing rules left in the triage queue."""
        t.refresh_from_db()
        if t.status == Status.NEW:
            _walk(t, duty, "triage", priority=priority or t.priority_code,
                  assignee=assignee.username)
        elif t.assignee_id != assignee.pk:
            _walk(t, duty, "reassign", assignee=assignee.username)

    def to_analysis(t: Ticket, assignee: User) -> None:
        triage(t, assignee)
        _walk(t, assignee, "acknowledge")

    def to_planning(t: Ticket, assignee: User, problem_type: str, module: str) -> None:
        to_analysis(t, assignee)
        _walk(t, assignee, "classify", problem_type=problem_type, module=module,
              estimate_minutes=120, deadline_at=soon)

    file(p["sunli"], "用户无法登录系统", "all_users", "immediate",
         description="今天上午 9:10 起所有用户登录时提示“系统繁忙”。",
         error_message="HTTP 503 Service Unavailable", impact_scope="全部用户")
    file(p["zhoujie"], "报表导出 Excel 中文乱码", "few_users", "normal",
         steps_to_reproduce="1. 打开月度报表\n2. 点击“导出 Excel”\n3. 用 WPS 打开",
         module="report")

    t = file(p["sunli"], "支付回调偶发超时", "some_users", "high", module="payment")
    triage(t, owner, "high")

    t = file(p["zhoujie"], "个人中心头像显示错位", "few_users", "normal", module="user")
    to_analysis(t, support)

    t = file(p["sunli"], "订单列表加载缓慢", "few_users", "high")
    to_planning(t, support, ProblemType.DATA, "payment")

    t = file(duty, "支付网关证书即将过期", "all_users", "normal", module="payment",
             source_kind=SourceKind.INSPECTION, channel=Channel.INSPECTION,
             submitter_name="张伟", description="日常巡检发现证书 7 天后过期。")
    to_planning(t, owner, ProblemType.ENVIRONMENT, "payment")
    _walk(t, owner, "propose_plan", plan_kind="environment_change",
          plan_summary="申请新证书，在网关上替换并滚动重启。", major_environment_change=True)

    t = file(duty, "数据库连接池耗尽", "all_users", "immediate", source_kind=SourceKind.ALERT,
             channel=Channel.ALERTMANAGER, submitter_name="Alertmanager", alert_host="10.0.3.21",
             alert_rule="DBConnectionPoolExhausted", alert_level="critical", alert_at=now,
             alert_symptom="活跃连接数持续 100%，应用报 Timeout waiting for connection")
    to_planning(t, owner, ProblemType.ENVIRONMENT, "payment")
    _walk(t, owner, "propose_plan", plan_kind="environment_change", major_environment_change=True,
          plan_summary="连接池上限 100 → 300，重启应用，观察 30 分钟。")
    _walk(t, head, "approve", comment="同意，注意观察慢查询。")
    for command, kind, minutes in [("ALTER SYSTEM SET max_connections = 400;", "config", 15),
                                   ("systemctl restart payment-api", "shell", 5)]:
        services.add_work_log_step(ticket_id=t.pk, by=owner, command=command, kind=kind,
                                   target="10.0.3.21", duration_minutes=minutes)

    t = file(p["zhoujie"], "批量导入用户时报错", "few_users", "normal", module="user")
    to_analysis(t, support)
    _walk(t, support, "request_info", comment="请提供导入用的 Excel 文件和报错截图。")

    t = file(p["sunli"], "报表数据与财务系统不一致", "some_users", "normal", module="report")
    to_planning(t, support, ProblemType.DATA, "report")
    _walk(t, support, "propose_plan", plan_kind="data_repair",
          plan_summary="重新跑 11 月汇总任务，核对差异。")
    services.add_work_log_step(ticket_id=t.pk, by=support, kind="sql", target="report-db",
                               command="UPDATE daily_summary SET amount = src.amount FROM ...;",
                               duration_minutes=60)
    _walk(t, support, "resolve", cause="汇总任务在 11-03 因超时未执行。",
          solution="补跑汇总任务并校验。", time_taken_minutes=90,
          prevention="为汇总任务加失败告警。")

    for title, archive in [("密码重置邮件收不到", False), ("登录页验证码不显示", True)]:
        t = file(p["sunli"], title, "few_users", "normal", module="user")
        to_planning(t, support, ProblemType.ENVIRONMENT, "user")
        _walk(t, support, "propose_plan", plan_kind="service_restart",
              plan_summary="重启邮件发送服务。")
        services.add_work_log_step(ticket_id=t.pk, by=support, command="systemctl restart postfix",
                                   duration_minutes=20)
        _walk(t, support, "resolve", cause="邮件队列阻塞。", solution="重启 postfix 并清理队列。",
              time_taken_minutes=30, prevention="监控邮件队列长度。")
        _walk(t, p["sunli"], "confirm", comment="已收到，谢谢！")
        if archive:
            _walk(t, duty, "archive")
        else:
            # It happened again two days later: the submitter reopens it.
            _walk(t, p["sunli"], "reopen", reason="今天又收不到密码重置邮件了。")
    # The same problem reported twice: closed as a duplicate, pointing to the original.
    t = file(p["zhoujie"], "验证码图片加载不出来", "few_users", "normal", module="user")
    original = Ticket.objects.get(title="登录页验证码不显示")
    triage(t, support)
    _walk(t, duty, "dismiss", duplicate_of=original.key)
    # Linked from the open one: an archived ticket's own links are final.
    services.link_tickets(ticket_id=Ticket.objects.get(title="密码重置邮件收不到").pk,
                          by=support, kind="related_to", other=original.key)
    # A mailed report without the details: the duty engineer sends it back.
    t = file(p["zhoujie"], "系统打不开了", "some_users", "high", channel=Channel.EMAIL,
             description="同事们都说打不开，麻烦看一下。")
    if t.status == Status.NEW:
        _walk(t, duty, "send_back", reason="请告诉我们从几点开始、打开哪个页面、看到的报错原文。")
    _load_rounds_of_work(p, file, to_planning)

    t = file(duty, "对接市场部活动报名系统", "none", "low",
             submitter_name="市场部 吴芳", submitter_contact="wufang@example.com",
             description="市场部希望活动报名数据同步到用户模块。",
             submitter_department="市场部", source_kind=SourceKind.CROSS_DEPARTMENT,
             channel=Channel.EMAIL, module="user")
    to_planning(t, owner, ProblemType.REQUIREMENT, "user")

    t = file(p["zhoujie"], "报表定时任务频繁失败", "some_users", "high", module="report")
    to_planning(t, owner, ProblemType.CODE, "report")
    _walk(t, owner, "propose_plan", plan_kind="code_fix", plan_summary="修复任务重试逻辑。",
          fix_version="2.8.1", release_at=(now + timedelta(days=1)).isoformat())
    _walk(t, head, "approve")
    _walk(t, owner, "escalate", reason="修复后仍失败，需要 DBA 协助扩容。")


def _report(title: str, now: Any) -> dict[str, Any]:
    """What a person writes in the portal about ``title``: when, how, what it said, who."""
    return {
        "description": f"{title}，影响日常工作。",
        "occurred_at": now - timedelta(hours=3),
        "steps_to_reproduce": "1. 登录系统\n2. 打开相关页面\n3. 按平时的方式操作",
        "error_message": "页面提示：系统繁忙，请稍后再试（错误码 500）",
        "impact_scope": "本部门同事",
    }


def _load_rounds_of_work(p: dict[str, User], file: Any, to_planning: Any) -> None:
    """A code fix the submitter says did not work: back to planning, the head told, a second
    plan approved, more steps by the owner and the developer pulled in; the time taken per
    person is summed over both rounds."""
    owner, developer, head = p["wanglei"], p["zhaoqiang"], p["liuyang"]
    release = (timezone.now() + timedelta(days=1)).isoformat()
    t = file(p["sunli"], "订单导出后金额合计不对", "some_users", "high", module="payment")
    to_planning(t, owner, ProblemType.CODE, "payment")
    services.set_collaborators(ticket_id=t.pk, by=owner, add=[developer.username])
    _walk(t, owner, "propose_plan", plan_kind="code_fix", plan_summary="修正导出时的舍入方式。",
          fix_version="3.1.2", release_at=release)
    _walk(t, head, "approve")
    services.add_work_log_step(ticket_id=t.pk, by=developer, kind="deploy",
                               command="deploy payment-export 3.1.2", duration_minutes=45)
    _walk(t, owner, "resolve", cause="导出时逐行四舍五入。",
          solution="改为合计后再舍入，发布 3.1.2。", time_taken_minutes=60,
          prevention="导出金额加对账测试。")
    _walk(t, p["sunli"], "reject_fix", reason="含退款的订单合计仍然差 1 分。")
    _walk(t, owner, "propose_plan", plan_kind="code_fix", plan_summary="退款行也按合计舍入。",
          fix_version="3.1.3", release_at=release,
          expected_completion_at=(timezone.now() + timedelta(days=2)).isoformat())
    _walk(t, head, "approve", comment="同意，发布前请先在预发环境核对。")
    services.add_work_log_step(ticket_id=t.pk, by=developer, kind="deploy",
                               command="deploy payment-export 3.1.3", duration_minutes=30)
    services.add_work_log_step(ticket_id=t.pk, by=owner, kind="sql", target="pay-db-replica",
                               command="SELECT order_id, total FROM export_check WHERE diff <> 0;",
                               duration_minutes=20)
    _walk(t, owner, "resolve", cause="退款行单独舍入。",
          solution="退款行并入合计后舍入，发布 3.1.3。", time_taken_minutes=95,
          prevention="对账测试覆盖退款订单。")


def _load_inspections(p: dict[str, User]) -> None:
    """A daily plan whose yesterday's run found a full disk (a ticket), and today's run due."""
    now = timezone.now()
    plan = inspections.create_plan(
        name="支付服务器日常巡检", owner=p["wanglei"], schedule="0 9 * * *",
        module=Module.objects.get(code="payment"), grace_minutes=120,
        items=[("检查 nginx 错误日志", "近 24 小时 5xx 少于 100 条即为通过"),
               ("检查磁盘使用率", "各分区使用率低于 80%"),
               ("检查 RAID 状态", "所有阵列为 Optimal")],
    )
    inspections.refresh_schedule(plan=plan, now=now - timedelta(days=2))
    (yesterday,) = inspections.schedule_due_runs(now=now - timedelta(days=1))
    nginx, disk, raid = plan.items.all()
    inspections.record_results(run_id=yesterday.pk, by=p["zhangwei"], finish=True, results=[
        inspections.ResultInput(item=nginx.pk, outcome="pass", evidence="5xx：12 条"),
        inspections.ResultInput(item=disk.pk, outcome="fail", notes="/data 分区使用率 93%",
                                evidence="/dev/sdb1  500G  465G  35G  93% /data"),
        inspections.ResultInput(item=raid.pk, outcome="pass"),
    ])
    inspections.schedule_due_runs(now=now)


def _load_requests_and_emergencies(p: dict[str, User]) -> None:
    cross_department.submit_request(
        by=p["zhoujie"], department="产品部", needed="会员积分对接新的营销平台",
        business_reason="明年一季度的会员活动需要实时积分", channel=Channel.WEB,
        desired_date=timezone.localdate() + timedelta(days=30), contact="周杰 分机 8021",
    )
    emergency = emergencies.declare_new(
        by=p["zhangwei"], title="支付成功率骤降到 40%", module="payment", channel=Channel.WEB,
        reason="支付网关大量返回 504，核心业务受影响。",
    )
    emergencies.post_status_update(
        ticket_id=emergency.ticket_id, by=p["wanglei"],
        message="已定位到网关上游超时，正在切换备用通道。",
        next_update_at=timezone.now() + timedelta(minutes=30),
    )
