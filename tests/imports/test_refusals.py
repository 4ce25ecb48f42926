"""Rows opsdesk cannot import are refused one by one, each named by its line in the file and
every reason it has; the other rows are imported, and the command ends with status 2."""

from __future__ import annotations

import pytest

from opsdesk.imports.models import ImportedTicket
from tests.imports.exports import jira_csv, jira_issue

pytestmark = pytest.mark.django_db
# Three lines: the line numbers of every row after it depend on reading it as one record.
LONG_DESCRIPTION = "第一行\n第二行, 有逗号\n第三行 \"引号\""


def test_each_refused_row_is_reported_with_its_line_and_reasons_and_the_rest_imported(
        run_import):
    export = jira_csv([
        jira_issue("SUP-1", Description=LONG_DESCRIPTION),                      # lines 2-4
        jira_issue("SUP-2", Created="01/Jan/99 10:00 AM"),                      # line 5
        jira_issue("SUP-3", Created="31/Feb/25 9:00 AM"),                       # line 6
        jira_issue("SUP-4", Created="01/Jan/99 1:00 PM", Status="Triage",
                   Priority="P0", **{"Status Category": ""}),                   # line 7
        jira_issue("SUP-5", Resolved="2099-06-01 10:00", Updated=""),           # line 8
        jira_issue("SUP-1", Summary="又一个 SUP-1"),                             # line 9
        jira_issue("", Summary="没有编号"),                                      # line 10
        jira_issue("SUP-6", comments=[("just text without separators",)]),      # line 11
        jira_issue("SUP-7", comments=[("01/Mar/25 9:00 AM", "孙丽", "早于创建")]),  # line 12
        jira_issue("SUP-8", Resolved="01/Mar/25 9:00 AM"),                      # line 13
        jira_issue("SUP-9", Summary="长" * 201),                                # line 14
        jira_issue("SUP-10", Summary=""),                                       # line 15
        jira_issue("SUP-11", Description=LONG_DESCRIPTION),                     # lines 16-18
    ])

    run = run_import(export, "--from", "jira")

    assert run.code == 2
    assert run.err.endswith("11 rows were refused.")
    assert sorted(ImportedTicket.objects.values_list("external_key", flat=True)) == [
        "SUP-1", "SUP-11"]
    assert run.report[run.report.index("Refused 11 rows:") + 1:] == [
        "  line 5, SUP-2: Created: “01/Jan/99 10:00 AM”: Dates must lie between 2000-01-01 "
        "and 2099-12-31.",
        "  line 6, SUP-3: Created: “31/Feb/25 9:00 AM” is not a date opsdesk can read; name "
        "its format under [dates] in a mapping file.",
        "  line 7, SUP-4: The status “Triage” is not in the mapping: add it under [status] as "
        "open, closed or archived. The priority “P0” is not in the mapping: add it under "
        "[priority] as urgent, high, medium or low. Created: “01/Jan/99 1:00 PM”: Dates must "
        "lie between 2000-01-01 and 2099-12-31.",
        "  line 8, SUP-5: Resolved: “2099-06-01 10:00”: This time is in the future.",
        "  line 9, SUP-1: SUP-1 appears again: it was first at line 2.",
        "  line 10, —: Issue key is empty.",
        "  line 11, SUP-6: Comment 1 is not written as “date;author;text”: “just text without "
        "separators”",
        "  line 12, SUP-7: Comment 1 (01/Mar/25 9:00 AM) is older than the issue.",
        "  line 13, SUP-8: Resolved (01/Mar/25 9:00 AM) is before the issue was created.",
        "  line 14, SUP-9: title may have at most 200 characters (it has 201).",
        "  line 15, SUP-10: The title is required.",
    ]


def test_a_status_of_its_own_is_mapped_by_its_jira_status_category(run_import):
    run = run_import(jira_csv([jira_issue("SUP-1", Status="Ready for Release",
                                          **{"Status Category": "Done"})]), "--from", "jira")

    assert run.code == 0, run.err
    assert ImportedTicket.objects.get().ticket.status == "closed"


def test_a_row_with_more_cells_than_the_header_is_refused(run_import):
    good = jira_csv([jira_issue("SUP-1")]).decode()
    header, row = good.splitlines()[:2]
    export = "\r\n".join([header, row, row.replace("SUP-1", "SUP-2") + ",extra,cells"]) + "\r\n"

    run = run_import(export.encode(), "--from", "jira")

    assert run.code == 2
    assert "  line 3, SUP-2: The row has 2 more cells than the file has columns." in run.report
    assert ImportedTicket.objects.get().external_key == "SUP-1"
