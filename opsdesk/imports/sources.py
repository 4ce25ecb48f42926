"""The trackers opsdesk imports from, as data: the columns their CSV exports name, the values
their statuses and priorities take, and how they write comments and modules.

Jira (Server, Data Center and Cloud, "Export CSV (all fields)"): English headers; a column
repeated per value (Comment, Component/s, Labels); a comment is ``date;author;text``. ZenTao
(禅道, Bug → 导出数据 → CSV): Chinese headers, often GBK; people by their real names; a module
as ``/path/name(#id)``; the description (重现步骤) in HTML; ``0000-00-00`` for a date never
set; when closed, 指派给 holds ``Closed``; comments only where the export adds a 备注 column,
one per line as ``2026-12-05 15:04:05,由张伟评论了。text``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from opsdesk.imports.models import System


class Column(enum.StrEnum):
    """What opsdesk reads from an export, whatever the column's name there."""

    KEY = "key"
    TITLE = "title"
    DESCRIPTION = "description"
    STATUS = "status"
    STATUS_CATEGORY = "status_category"
    PRIORITY = "priority"
    REPORTER = "reporter"
    ASSIGNEE = "assignee"
    RESOLVER = "resolver"
    CLOSER = "closer"
    CREATED = "created"
    RESOLVED = "resolved"
    CLOSED = "closed"
    UPDATED = "updated"
    MODULE = "module"
    RESOLUTION = "resolution"
    COMMENTS = "comments"
    CAUSE = "cause"
    SOLUTION = "solution"


class CommentFormatError(ValueError):
    """A comment cell that does not read as its tracker writes comments (message translated)."""


@dataclass(frozen=True)
class ExportedComment:
    when: str  # as written; read by the mapping's date formats
    author: str
    body: str


# Where an imported ticket goes: an open state (new, or assigned when the assignee may be),
# closed, or archived.
OPEN, CLOSED, ARCHIVED = "open", "closed", "archived"
TARGETS = (OPEN, CLOSED, ARCHIVED)
PRIORITY_CODES = ("urgent", "high", "medium", "low")


@dataclass(frozen=True)
class Source:
    system: System
    columns: Mapping[Column, tuple[str, ...]]
    required: tuple[Column, ...]
    statuses: Mapping[str, str]
    status_categories: Mapping[str, str]
    priorities: Mapping[str, str]
    # Values of a people column that name nobody.
    nobody: frozenset[str]
    # Columns whose text is HTML, read as plain text.
    html: frozenset[Column]
    reference_format: str  # the issue as people there call it
    comments: Callable[[Sequence[str]], list[ExportedComment]]
    module_names: Callable[[str], list[str]]  # the names a module cell may go by

    @property
    def label(self) -> str:
        return str(self.system.label)

    def reference(self, key: str) -> str:
        return self.reference_format.format(key=key)

    def column_names(self, column: Column) -> tuple[str, ...]:
        return self.columns.get(column, ())


def _jira_comments(cells: Sequence[str]) -> list[ExportedComment]:
    comments = []
    for number, cell in enumerate(cells, start=1):
        parts = cell.split(";", 2)
        if len(parts) < 3 or not parts[0].strip():
            raise CommentFormatError(
                _("Comment %(number)d is not written as “date;author;text”: %(start)s")
                % {"number": number, "start": _start_of(cell)})
        when, author, body = parts
        comments.append(ExportedComment(when.strip(), author.strip(), body.strip()))
    return comments


_ZENTAO_COMMENT = re.compile(
    r"(?P<when>\d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2}(?::\d{2})?)?)\s*[,，]\s*由\s*(?P<who>.+?)\s*"
    r"(?:评论了|備註了|评论|备注了|添加备注|添加了备注|commented)\s*[。.:：]?\s*(?P<body>.*)")


def _zentao_comments(cells: Sequence[str]) -> list[ExportedComment]:
    """Each line that starts ``<date>,由<name>评论了。`` begins a comment; the lines after it,
    up to the next such line, continue it."""
    comments: list[ExportedComment] = []
    for cell in cells:
        for line in cell.splitlines():
            start = _ZENTAO_COMMENT.fullmatch(line.strip())
            if start is not None:
                comments.append(ExportedComment(start["when"], start["who"], start["body"]))
            elif comments:
                last = comments[-1]
                comments[-1] = ExportedComment(last.when, last.author, f"{last.body}\n{line}")
            elif line.strip():
                raise CommentFormatError(
                    _("备注 does not start as “<date>,由<name>评论了。<text>”: %(start)s")
                    % {"start": _start_of(line)})
    return [ExportedComment(c.when, c.author, c.body.strip()) for c in comments]


def _start_of(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"


def _jira_modules(cell: str) -> list[str]:
    return [cell.strip()]


_ZENTAO_MODULE_ID = re.compile(r"\s*\(#\d+\)\s*$")


def _zentao_modules(cell: str) -> list[str]:
    """``/支付系统/对账(#12)`` may be 对账 here, or the whole path; ``/`` is no module."""
    path = _ZENTAO_MODULE_ID.sub("", cell).strip()
    if not path.strip("/"):
        return []
    leaf = path.rstrip("/").rsplit("/", 1)[-1].strip()
    names = [cell.strip(), path, path.strip("/"), leaf]
    return [name for i, name in enumerate(names) if name and name not in names[:i]]


JIRA = Source(
    system=System.JIRA,
    columns={
        Column.KEY: ("Issue key", "Key"),
        Column.TITLE: ("Summary",),
        Column.DESCRIPTION: ("Description",),
        Column.STATUS: ("Status",),
        Column.STATUS_CATEGORY: ("Status Category",),
        Column.PRIORITY: ("Priority",),
        Column.REPORTER: ("Reporter", "Creator"),
        Column.ASSIGNEE: ("Assignee",),
        Column.CREATED: ("Created",),
        Column.RESOLVED: ("Resolved",),
        Column.UPDATED: ("Updated",),
        Column.MODULE: ("Component/s", "Components", "Component"),
        Column.RESOLUTION: ("Resolution",),
        Column.COMMENTS: ("Comment", "Comments"),
    },
    required=(Column.KEY, Column.TITLE, Column.STATUS, Column.CREATED),
    statuses={
        **dict.fromkeys(("open", "to do", "backlog", "selected for development", "in progress",
                         "reopened", "in review", "waiting for support", "waiting for customer",
                         "pending", "打开", "待办", "处理中", "进行中", "重新打开"), OPEN),
        **dict.fromkeys(("done", "closed", "resolved", "完成", "已完成", "关闭", "已关闭",
                         "已解决"), CLOSED),
    },
    status_categories={"to do": OPEN, "in progress": OPEN, "done": CLOSED, "待办": OPEN,
                       "进行中": OPEN, "完成": CLOSED},
    priorities={
        **dict.fromkeys(("highest", "blocker", "p1", "最高", "紧急"), "urgent"),
        **dict.fromkeys(("high", "critical", "p2", "高"), "high"),
        **dict.fromkeys(("medium", "major", "normal", "p3", "中", "普通"), "medium"),
        **dict.fromkeys(("low", "lowest", "minor", "trivial", "p4", "p5", "低", "最低"), "low"),
    },
    nobody=frozenset({"unassigned", "未分配"}),
    html=frozenset(),
    reference_format="{key}",
    comments=_jira_comments,
    module_names=_jira_modules,
)

ZENTAO = Source(
    system=System.ZENTAO,
    columns={
        Column.KEY: ("编号", "Bug编号", "ID"),
        Column.TITLE: ("Bug标题", "标题"),
        Column.DESCRIPTION: ("重现步骤",),
        Column.STATUS: ("Bug状态", "状态"),
        # Severity, not 优先级 (ZenTao's scheduling order): how bad the fault is, which is
        # what opsdesk's priority says. A mapping file can name 优先级 instead.
        Column.PRIORITY: ("严重程度",),
        Column.REPORTER: ("由谁创建",),
        Column.ASSIGNEE: ("指派给",),
        Column.RESOLVER: ("解决者",),
        Column.CLOSER: ("由谁关闭",),
        Column.CREATED: ("创建日期",),
        Column.RESOLVED: ("解决日期",),
        Column.CLOSED: ("关闭日期",),
        Column.UPDATED: ("最后修改日期", "修改日期"),
        Column.MODULE: ("所属模块",),
        Column.RESOLUTION: ("解决方案",),
        Column.COMMENTS: ("备注",),
    },
    required=(Column.KEY, Column.TITLE, Column.STATUS, Column.CREATED),
    statuses={"激活": OPEN, "active": OPEN, "已解决": CLOSED, "resolved": CLOSED,
              "已关闭": CLOSED, "closed": CLOSED},
    status_categories={},
    priorities={
        **dict.fromkeys(("1", "致命"), "urgent"), **dict.fromkeys(("2", "严重"), "high"),
        **dict.fromkeys(("3", "一般"), "medium"), **dict.fromkeys(("4", "提示", "轻微"), "low"),
    },
    nobody=frozenset({"closed"}),
    html=frozenset({Column.DESCRIPTION}),
    reference_format="禅道 #{key}",
    comments=_zentao_comments,
    module_names=_zentao_modules,
)

SOURCES = {source.system.value: source for source in (JIRA, ZENTAO)}
