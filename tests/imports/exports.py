"""Exports as Jira and ZenTao write them, built in code: Jira's "Export CSV (all fields)" (UTF-8,
English headers, a column repeated per comment, component and label, multi-line quoted
descriptions) and ZenTao's bug export (GBK, Chinese headers, people by real name, modules as
``/path/name(#id)``, HTML steps, ``0000-00-00`` for dates never set)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from typing import Any

JIRA_COLUMNS = ("Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key",
                "Project name", "Priority", "Resolution", "Assignee", "Reporter", "Creator",
                "Created", "Updated", "Last Viewed", "Resolved")


def jira_issue(key: str, **fields: Any) -> dict[str, Any]:
    """A Jira issue with a realistic value in every column, ``fields`` instead."""
    return {
        "Summary": "支付回调超时，订单状态未更新", "Issue key": key,
        "Issue id": str(10000 + sum(map(ord, key))), "Issue Type": "Bug",
        "Status": "Done", "Project key": key.rsplit("-", 1)[0], "Project name": "运维支持",
        "Priority": "High", "Resolution": "Fixed", "Assignee": "", "Reporter": "",
        "Creator": "", "Created": "03/Mar/25 9:15 AM", "Updated": "05/Mar/25 6:40 PM",
        "Last Viewed": "", "Resolved": "05/Mar/25 6:30 PM",
        "components": [], "labels": [],
        "Description": "", "Environment": "生产环境", "comments": [],
        "Status Category": "Done",
        **fields,
    }


def jira_csv(issues: Sequence[dict[str, Any]], *, bom: bool = False,
             custom: Sequence[str] = ()) -> bytes:
    """The CSV Jira writes for ``issues``: as many Component/s, Labels and Comment columns as
    the issue with the most of each needs, then the ``custom`` fields' columns ("Custom field
    (Root Cause)")."""
    most = {name: max([len(i[name]) for i in issues] + [1])
            for name in ("components", "labels", "comments")}
    header = [*JIRA_COLUMNS, *["Component/s"] * most["components"],
              *["Labels"] * most["labels"], "Description", "Environment",
              *["Comment"] * most["comments"], "Status Category",
              *(f"Custom field ({name})" for name in custom)]
    rows = []
    for issue in issues:
        comments = [";".join(comment) for comment in issue["comments"]]
        rows.append([*(issue[c] for c in JIRA_COLUMNS),
                     *_padded(issue["components"], most["components"]),
                     *_padded(issue["labels"], most["labels"]),
                     issue["Description"], issue["Environment"],
                     *_padded(comments, most["comments"]), issue["Status Category"],
                     *(issue.get(name, "") for name in custom)])
    text = _csv([header, *rows])
    return (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")


ZENTAO_COLUMNS = ("编号", "所属产品", "所属模块", "所属项目", "相关需求", "相关任务", "Bug标题",
                  "关键词", "严重程度", "优先级", "Bug类型", "操作系统", "浏览器", "重现步骤",
                  "Bug状态", "激活次数", "是否确认", "抄送给", "由谁创建", "创建日期", "影响版本",
                  "指派给", "指派日期", "解决者", "解决方案", "解决版本", "解决日期", "由谁关闭",
                  "关闭日期", "重复ID", "相关Bug", "相关用例", "最后修改者", "修改日期", "附件")


def zentao_bug(number: int, **fields: Any) -> dict[str, Any]:
    """A ZenTao bug as its export writes it, ``fields`` instead of the defaults."""
    return {
        "编号": str(number), "所属产品": "支付平台(#3)", "所属模块": "/支付系统/对账(#12)",
        "所属项目": "2025 年一季度迭代(#7)", "相关需求": "", "相关任务": "",
        "Bug标题": "对账文件生成失败", "关键词": "", "严重程度": "2", "优先级": "3",
        "Bug类型": "代码错误", "操作系统": "Linux", "浏览器": "",
        "重现步骤": "<p>[步骤]</p><p>1. 运行对账任务</p><p>[结果]</p>"
                    "<p>报错 &quot;磁盘已满&quot;</p><p>[期望]</p><p>生成对账文件</p>",
        "Bug状态": "已关闭", "激活次数": "0", "是否确认": "已确认", "抄送给": "",
        "由谁创建": "", "创建日期": "2025-03-03 09:15:00", "影响版本": "主干",
        "指派给": "Closed", "指派日期": "2025-03-04 10:00:00", "解决者": "",
        "解决方案": "已解决", "解决版本": "v2.3.1(#21)", "解决日期": "2025-03-05 18:30:00",
        "由谁关闭": "", "关闭日期": "2025-03-06 09:00:00", "重复ID": "", "相关Bug": "",
        "相关用例": "", "最后修改者": "", "修改日期": "2025-03-06 09:00:00", "附件": "",
        **fields,
    }


def zentao_csv(bugs: Sequence[dict[str, Any]], *, comments: bool = False,
               encoding: str = "gbk") -> bytes:
    """ZenTao's CSV of ``bugs``, GBK-encoded as its exports usually are; ``comments``: with
    the 备注 column some installations add."""
    header = [*ZENTAO_COLUMNS, *(["备注"] if comments else [])]
    rows = [[bug.get(column, "") for column in header] for bug in bugs]
    return _csv([header, *rows]).encode(encoding)


def _padded(values: Sequence[str], length: int) -> list[str]:
    return [*values, *[""] * (length - len(values))]


def _csv(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()
