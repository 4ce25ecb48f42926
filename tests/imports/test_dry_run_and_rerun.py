"""A dry run reads, maps and checks everything and writes nothing; an import run again (or a
later export that holds the same issues) creates nothing twice; the progress goes to stderr."""

from __future__ import annotations

import pytest

from opsdesk.imports.models import ImportedTicket
from opsdesk.notify.models import Delivery
from opsdesk.sla.models import Clock
from opsdesk.tickets.models import Comment, Ticket, TimelineEvent
from tests.imports.exports import jira_csv, jira_issue, zentao_bug, zentao_csv

pytestmark = pytest.mark.django_db
COMMENTS = [("03/Mar/25 10:00 AM", "孙丽", "补充：只影响华东区"),
            ("04/Mar/25 10:00 AM", "张伟", "已处理")]


def everything() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Ticket, TimelineEvent, Comment, ImportedTicket, Clock, Delivery)}


def test_a_dry_run_reports_what_would_be_created_and_writes_nothing(run_import, people):
    export = jira_csv([
        jira_issue("SUP-1", comments=COMMENTS, Reporter="孙丽"),
        jira_issue("SUP-2", Status="Open", Priority="Blocker", Resolved="", Resolution=""),
        jira_issue("SUP-3", Created="not a date"),
    ])
    before = everything()

    run = run_import(export, "--from", "jira", "--dry-run")

    assert everything() == before
    assert run.code == 2  # a row would be refused
    assert run.report == [
        "Jira export export.csv (UTF-8): 3 rows.",
        "Would create 2 tickets with 2 comments.",
        "  by state: New 1 · Closed 1",
        "  by priority: Urgent 1 · High 1",
        "People: 2 names matched to accounts.",
        "Refused 1 row:",
        "  line 4, SUP-3: Created: “not a date” is not a date opsdesk can read; name its format "
        "under [dates] in a mapping file.",
        "Dry run: nothing was written.",
    ]
    assert run.err == "1 row was refused."  # no progress: nothing is written


def test_the_real_run_after_a_dry_run_creates_what_it_said(run_import, people):
    export = jira_csv([jira_issue("SUP-1", comments=COMMENTS),
                       jira_issue("SUP-2", Status="Open", Resolved="", Resolution="")])
    said = run_import(export, "--from", "jira", "--dry-run").report

    done = run_import(export, "--from", "jira").report

    assert said[1] == "Would create 2 tickets with 2 comments."
    assert done[1] == "Created 2 tickets with 2 comments."
    assert said[2:-1] == done[2:]
    assert everything()["Ticket"] == 2


def test_running_an_import_again_creates_nothing_new(run_import, people):
    export = zentao_csv([zentao_bug(1), zentao_bug(2, Bug状态="激活", 指派给="王磊"),
                         zentao_bug(3, 创建日期="0000-00-00")])
    first = run_import(export, "--from", "zentao")
    after_first = everything()

    again = run_import(export, "--from", "zentao")

    assert everything() == after_first
    assert first.code == again.code == 2  # bug 3 has no creation date, both times
    assert "Created 0 tickets with 0 comments." in again.report
    assert "2 rows were imported before and are skipped." in again.report
    assert "  line 4, 3: 创建日期 is empty." in again.report


def test_a_later_export_adds_only_the_issues_not_imported_yet(run_import):
    run_import(jira_csv([jira_issue("SUP-1"), jira_issue("SUP-2")]), "--from", "jira")

    run = run_import(jira_csv([jira_issue("SUP-2", Summary="改过的标题"), jira_issue("SUP-3")]),
                     "--from", "jira")

    assert run.code == 0, run.err
    assert sorted(ImportedTicket.objects.values_list("external_key", flat=True)) == [
        "SUP-1", "SUP-2", "SUP-3"]
    assert not Ticket.objects.filter(title="改过的标题").exists()
    assert "1 row was imported before and is skipped." in run.report


def test_the_same_key_from_another_system_is_another_issue(run_import):
    run_import(jira_csv([jira_issue("SUP-1")]), "--from", "jira")

    run = run_import(zentao_csv([zentao_bug(1)]), "--from", "zentao")

    assert run.code == 0, run.err
    assert ImportedTicket.objects.filter(external_key__in=["SUP-1", "1"]).count() == 2


def test_progress_is_written_to_stderr_after_each_batch(run_import):
    export = jira_csv([jira_issue(f"SUP-{n}") for n in range(1, 6)])

    run = run_import(export, "--from", "jira", "--batch", "2")

    assert run.err.splitlines() == ["  2 / 5 tickets", "  4 / 5 tickets", "  5 / 5 tickets"]
    assert run.code == 0
