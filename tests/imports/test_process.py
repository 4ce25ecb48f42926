"""``opsdesk import`` as a separate process on a desk of its own, and the writing side's
behaviour when the database refuses a ticket or another run imported the same issues first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opsdesk.accounts.models import Module
from opsdesk.imports import mapping, plan, reading
from opsdesk.imports.models import ImportedTicket
from opsdesk.imports.services import import_plan
from opsdesk.imports.sources import JIRA
from opsdesk.tickets import hooks
from tests.factories import ModuleFactory
from tests.imports.exports import jira_csv, jira_issue, zentao_bug, zentao_csv
from tests.runtime.desk import Desk, throwaway_desk


def opsdesk_import(desk: Desk, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opsdesk.cli", "import", *args],
                          env=desk.env, capture_output=True, text=True, timeout=120)


def imported(desk: Desk) -> list[tuple[str, str, bool, str]]:
    return [(key, status, bool(dispatched), name) for key, status, dispatched, name in desk.query(
        "SELECT i.external_key, t.status, t.dispatched, t.submitter_name "
        "FROM imports_importedticket i JOIN tickets_ticket t ON t.id = i.ticket_id "
        "ORDER BY i.external_key")]


def test_the_command_imports_a_gbk_export_once_whatever_how_often_it_runs(tmp_path: Path):
    export = tmp_path / "禅道-Bug.csv"
    export.write_bytes(zentao_csv([
        zentao_bug(45, 由谁创建="孙丽"),
        zentao_bug(46, Bug状态="激活", 指派给="", 解决日期="0000-00-00", 关闭日期="0000-00-00",
                   由谁创建="小陈"),
        zentao_bug(47, 创建日期="1999-12-31 23:00:00"),
    ]))
    with throwaway_desk(tmp_path) as desk:
        dry = opsdesk_import(desk, str(export), "--from", "zentao", "--dry-run")
        assert dry.returncode == 2, dry.stderr
        assert imported(desk) == []

        first = opsdesk_import(desk, str(export), "--from", "zentao")

        assert first.returncode == 2, first.stderr  # bug 47 is refused, the others are in
        assert "2 / 2" in first.stderr  # the progress
        assert "47" in first.stdout and "1999-12-31 23:00:00" in first.stdout
        assert imported(desk) == [("45", "closed", True, "孙丽"),
                                  ("46", "new", False, "小陈")]  # for the worker to dispatch
        counts = desk.query("SELECT (SELECT COUNT(*) FROM tickets_ticket), "
                            "(SELECT COUNT(*) FROM tickets_timelineevent)")

        again = opsdesk_import(desk, str(export), "--from", "zentao")

        assert again.returncode == 2
        assert desk.query("SELECT (SELECT COUNT(*) FROM tickets_ticket), "
                          "(SELECT COUNT(*) FROM tickets_timelineevent)") == counts


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_ticket_the_database_refuses_is_reported_and_the_rest_of_its_batch_goes_in():
    ModuleFactory(code="retired", name="旧模块")
    ready = _plan(jira_csv([jira_issue("SUP-1"), jira_issue("SUP-2", components=["旧模块"]),
                            jira_issue("SUP-3")]))
    # An administrator deletes the module between reading the export and writing it.
    Module.objects.filter(code="retired").delete()

    outcome = import_plan(plan=ready, batch=10)

    assert [d.key for d in outcome.created] == ["SUP-1", "SUP-3"]
    assert [(r.line, r.key) for r in outcome.refusals] == [(3, "SUP-2")]
    assert sorted(ImportedTicket.objects.values_list("external_key", flat=True)) == [
        "SUP-1", "SUP-3"]


@pytest.mark.django_db
def test_issues_another_run_imported_meanwhile_are_skipped_not_doubled():
    export = jira_csv([jira_issue("SUP-1"), jira_issue("SUP-2")])
    slow, fast = _plan(export), _plan(export)
    import_plan(plan=fast)

    outcome = import_plan(plan=slow)

    assert (outcome.created, outcome.skipped) == ([], 2)
    assert ImportedTicket.objects.count() == 2


def _plan(export: bytes) -> plan.Plan:
    return plan.prepare(table=reading.read_table(export.decode()), source=JIRA,
                        mapping=mapping.load(source=JIRA, path=None), file_name="export.csv",
                        encoding="utf-8")


@pytest.mark.django_db
def test_a_fault_while_dispatching_one_open_ticket_refuses_only_that_row(
        run_import, monkeypatch, caplog):
    def breaks_on_one(changes):
        if any(change.ticket.title == "触发故障" for change in changes):
            raise RuntimeError("hook failed")

    monkeypatch.setattr(hooks, "_after_creation", [*hooks._after_creation, breaks_on_one])
    open_issue = {"Status": "Open", "Resolved": "", "Resolution": ""}
    export = jira_csv([jira_issue("SUP-1", **open_issue),
                       jira_issue("SUP-2", Summary="触发故障", **open_issue),
                       jira_issue("SUP-3", **open_issue)])

    run = run_import(export, "--from", "jira")

    assert run.code == 2
    assert "  line 3, SUP-2: RuntimeError: hook failed" in run.report
    assert sorted(ImportedTicket.objects.values_list("external_key", flat=True)) == [
        "SUP-1", "SUP-3"]
    assert "importing SUP-2 (line 3) failed" in caplog.text
