"""Importing a ZenTao (禅道) bug export: GBK, Chinese headers, real names, module paths with
their ids, HTML steps, 0000-00-00 for dates never set, "Closed" in 指派给 once closed, and
comments from a 备注 column."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opsdesk.accounts.models import Module, User
from opsdesk.imports.models import ImportedTicket
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket
from tests.imports.exports import zentao_bug, zentao_csv

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def imported(number: int) -> Ticket:
    return ImportedTicket.objects.get(system="zentao", external_key=str(number)).ticket


@pytest.fixture
def export(people: dict[str, User], payment: Module) -> bytes:
    return zentao_csv([
        zentao_bug(45, 所属模块="/支付系统/支付模块(#12)", 严重程度="1", 由谁创建="孙丽",
                   解决者="李娜", 由谁关闭="张伟"),
        zentao_bug(46, Bug标题="登录页验证码不显示", 所属模块="/", Bug状态="激活", 严重程度="3",
                   由谁创建="测试外包 小陈", 指派给="王磊", 解决者="", 解决方案="",
                   解决日期="0000-00-00 00:00:00", 由谁关闭="", 关闭日期="0000-00-00 00:00:00",
                   创建日期="2025-06-10 08:30:00"),
        zentao_bug(47, Bug标题="导出月度报表时卡住", Bug状态="已解决", 严重程度="4",
                   由谁创建="张伟", 指派给="张伟", 解决者="李娜", 由谁关闭="",
                   关闭日期="0000-00-00",
                   备注="2025-03-04 11:00:00,由李娜评论了。已复现：报表服务内存不足\n"
                        "堆转储见附件\n"
                        "2025-03-05 09:30:00,由离职同事评论了。扩容后恢复"),
    ], comments=True)


def test_a_gbk_export_with_chinese_headers_is_read(run_import, export):
    with pytest.raises(UnicodeDecodeError):
        export.decode("utf-8")  # it really is GBK

    run = run_import(export, "--from", "zentao")

    assert run.code == 0, run.err
    assert "(GBK)" in run.report[0]
    assert sorted(ImportedTicket.objects.values_list("external_key", flat=True)) == [
        "45", "46", "47"]


def test_a_closed_bug_keeps_its_people_module_steps_and_dates(run_import, export, people,
                                                               payment):
    run_import(export, "--from", "zentao")

    ticket = imported(45)
    assert (ticket.status, ticket.priority) == (Status.CLOSED, Priority.URGENT)  # severity 1
    assert ticket.title == "对账文件生成失败"
    assert ticket.submitter == people["submitter"]  # 孙丽, by her real name
    assert ticket.assignee == people["support"]  # 指派给 says Closed: the resolver handled it
    assert ticket.module == payment  # /支付系统/支付模块(#12): by the module's name
    assert (ticket.submitted_at, ticket.closed_at) == (at(2025, 3, 3, 9, 15),
                                                       at(2025, 3, 6, 9, 0))
    assert ticket.description == ('[步骤]\n\n1. 运行对账任务\n\n[结果]\n\n报错 "磁盘已满"\n\n'
                                  "[期望]\n\n生成对账文件")
    closing = ticket.timeline.get(kind="transition")
    assert closing.actor == people["duty"]  # 由谁关闭
    assert closing.at == at(2025, 3, 6, 9, 0)
    assert closing.data["note"] == "已关闭 · 已解决"
    assert closing.data["reference"] == "禅道 #45"


def test_an_active_bug_with_never_set_dates_stays_open(run_import, export, people):
    run_import(export, "--from", "zentao")

    ticket = imported(46)
    assert (ticket.status, ticket.assignee, ticket.closed_at) == (
        Status.ASSIGNED, people["owner"], None)
    assert ticket.priority == Priority.MEDIUM
    assert ticket.submitter_name == "测试外包 小陈"
    assert ticket.module is None  # "/" is the product's root: no module


def test_a_resolved_bug_is_closed_at_its_resolution_with_its_comments(run_import, export,
                                                                     people):
    run_import(export, "--from", "zentao")

    ticket = imported(47)
    assert (ticket.status, ticket.closed_at) == (Status.CLOSED, at(2025, 3, 5, 18, 30))
    assert ticket.assignee == people["duty"]
    assert [(c.created_at, c.author, c.author_name, c.body) for c in ticket.comments.all()] == [
        (at(2025, 3, 4, 11, 0), people["support"], "", "已复现：报表服务内存不足\n堆转储见附件"),
        (at(2025, 3, 5, 9, 30), None, "离职同事", "扩容后恢复"),
    ]


def test_the_report_says_who_and_what_was_not_found(run_import, export):
    run = run_import(export, "--from", "zentao")

    assert "Created 3 tickets with 2 comments." in run.report
    assert "  by state: Assigned 1 · Closed 2" in run.report
    assert "  by priority: Urgent 1 · Medium 1 · Low 1" in run.report
    assert "  kept as names (no account has them): 测试外包 小陈 (1), 离职同事 (1)" in run.report
    assert "People: 4 names matched to accounts." in run.report  # 孙丽 李娜 张伟 王磊
    assert run.report[-1] == ("Modules no module here matched (the tickets have none; a "
                              "mapping's [modules] can say which they are): "
                              "/支付系统/对账(#12) (1)")


def test_a_module_no_module_here_has_is_named_in_the_report(run_import, payment):
    run = run_import(zentao_csv([zentao_bug(50, 所属模块="/数据平台/调度(#30)")]),
                     "--from", "zentao")

    assert run.code == 0, run.err
    assert imported(50).module is None
    assert any(line.startswith("Modules no module here matched") and
               line.endswith(": /数据平台/调度(#30) (1)") for line in run.report)


def test_an_utf8_zentao_export_reads_too(run_import):
    run = run_import(zentao_csv([zentao_bug(51)], encoding="utf-8"), "--from", "zentao")

    assert run.code == 0, run.err
    assert "(UTF-8)" in run.report[0]
    assert imported(51).title == "对账文件生成失败"


def test_html_steps_read_as_zentaos_page_shows_them(run_import):
    steps = ("<p>[步骤]</p>\n"
             "<p>1. 以财务账号登录后台，进入&ldquo;对账管理&rdquo;<br />"
             "2. 选择日期&nbsp;2025-03-01，点击<strong>生成对账文件</strong></p>\n"
             "<ol><li>等待约 30 秒</li><li>刷新页面</li></ol>\n"
             "<p>[结果]</p>\n"
             "<ul><li>页面提示 &lt;500 Internal Server Error&gt;</li>"
             "<li>日志：<code>No space left on device</code></li></ul>\n"
             '<p><img src="{12.png}" alt="" /></p>\n'
             "<p>[期望]</p>\n"
             "<p>生成对账文件 &amp; 发送通知邮件</p>")

    run = run_import(zentao_csv([zentao_bug(52, 重现步骤=steps)]), "--from", "zentao")

    assert run.code == 0, run.err
    assert imported(52).description == (
        "[步骤]\n\n"
        "1. 以财务账号登录后台，进入“对账管理”\n"
        "2. 选择日期 2025-03-01，点击生成对账文件\n\n"
        " 1. 等待约 30 秒\n"
        " 2. 刷新页面\n\n"
        "[结果]\n\n"
        "  * 页面提示 <500 Internal Server Error>\n"
        "  * 日志：No space left on device\n\n"
        "[期望]\n\n"
        "生成对账文件 & 发送通知邮件")
