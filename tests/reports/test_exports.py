"""Every figure downloads as CSV and XLSX with the filters of its JSON: the files are read back
(csv, openpyxl) and compared with the JSON the charts draw; text that a spreadsheet would run
as a formula stays text."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from tests.conftest import Api
from tests.reports.conftest import NOW, at, file, file_alert

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DASHBOARD = ["open-tickets", "backlog-age", "inflow", "times", "sla-compliance"]
REVIEW = ["reopen-rate", "satisfaction", "mtta", "mttr", "recurring-problems",
          "recurring-alerts"]


def wall(*parts: int) -> datetime:
    """A Shanghai moment as a spreadsheet holds it: the wall clock, no time zone."""
    return at(*parts, *[0] * (5 - len(parts))).replace(tzinfo=None)


def get(api: Api, name: str, **params: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return api.get(f"/reports/{name}", **params)


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def sheets(response: Any) -> dict[str, list[tuple[Any, ...]]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}


def body_rows(rows: list[Any]) -> list[Any]:
    """The rows between the header and the empty row before the notes."""
    end = next(i for i, row in enumerate(rows) if not any(cell not in ("", None) for cell in row))
    return rows[1:end]


def notes(rows: list[Any]) -> dict[str, Any]:
    end = next(i for i, row in enumerate(rows) if not any(cell not in ("", None) for cell in row))
    return {row[0]: row[1] for row in rows[end + 1:]}


@pytest.mark.usefixtures("desk")
class TestDashboardFigures:
    def test_inflow_csv_matches_the_json(self, api):
        figure = get(api["head"], "inflow", days=7).json()
        rows = csv_rows(get(api["head"], "inflow", days=7, format="csv"))
        assert rows[0] == ["Date", "User report", "Monitoring alert", "Inspection",
                           "Cross-department request", "Emergency", "Total"]
        body = body_rows(rows)
        assert [r[0] for r in body] == figure["days"]
        for i, row in enumerate(body):
            counts = [s["values"][i] for s in figure["series"]]
            assert row[1:] == [str(n) for n in counts] + [str(sum(counts))]
        assert notes(rows)["From"] == "2026-11-13"
        assert notes(rows)["To"] == "2026-11-19"
        assert notes(rows)["Module"] == "All modules"
        assert notes(rows)["Time zone"] == "Asia/Shanghai"

    def test_inflow_xlsx_has_dates_and_numbers(self, api):
        [(title, rows)] = sheets(get(api["head"], "inflow", days=7, format="xlsx")).items()
        assert title == "Inflow"
        body = body_rows(rows)
        assert body[-1][0] == wall(2026, 11, 19)  # a date cell, not text
        assert body[-1][1:] == (2, 1, 0, 0, 0, 3)  # numbers, not text
        assert notes(rows)["Exported at"] == wall(2026, 11, 19, 12, 0)

    def test_open_tickets_with_a_module_filter(self, api):
        figure = get(api["head"], "open-tickets", module="payment").json()
        rows = csv_rows(get(api["head"], "open-tickets", module="payment", format="csv"))
        assert rows[0] == ["Module", "Urgent", "High", "Medium", "Low", "Total"]
        assert body_rows(rows) == [["支付模块", "1", "0", "0", "1", "2"]]
        assert figure["total"] == 2
        assert notes(rows)["Module"] == "支付模块"

    def test_times_xlsx(self, api):
        [rows] = sheets(get(api["head"], "times", days=7, format="xlsx")).values()
        urgent_response = body_rows(rows)[0]
        assert urgent_response == ("Response", "Urgent", 2, 5.0, 30.0, 15.0)
        medium = next(r for r in body_rows(rows) if r[:2] == ("Response", "Medium"))
        assert medium == ("Response", "Medium", 0, None, None, 120.0)

    def test_sla_compliance_has_the_whole_period_and_breaches_now(self, api):
        rows = csv_rows(get(api["head"], "sla-compliance", days=7, format="csv"))
        body = body_rows(rows)
        assert body[-2] == ["2026-11-19", "0", "1", "0.0", "0", "0", ""]
        assert body[-1] == ["Whole period", "1", "2", "50.0", "1", "1", "100.0"]
        assert notes(rows)["Running clocks past due now"] == "4"

    def test_backlog_age_csv(self, api):
        rows = csv_rows(get(api["head"], "backlog-age", format="csv"))
        assert body_rows(rows)[0] == ["under 1 day", "1", "1", "1", "0", "3"]

    def test_headers_in_the_readers_language(self, people):
        head = Api(people["head"], language="zh-hans")
        rows = csv_rows(get(head, "open-tickets", format="csv"))
        # (Headers whose words are new wait for the catalogue's merge: "Total" here.)
        assert rows[0][:5] == ["模块", "紧急", "高", "中", "低"]
        assert body_rows(rows)[1][0] == "尚未归属模块"

    def test_dashboard_workbook_has_a_sheet_per_figure(self, api):
        with time_machine.travel(NOW, tick=False):
            response = api["head"].get("/reports/dashboard-workbook", days=7)
        assert response["Content-Disposition"] == (
            'attachment; filename="opsdesk-dashboard-2026-11-19.xlsx"')
        workbook = sheets(response)
        assert list(workbook) == ["Open tickets", "Backlog age", "Inflow", "SLA times",
                                  "SLA compliance"]
        assert body_rows(workbook["Inflow"])[-1][1:] == (2, 1, 0, 0, 0, 3)


@pytest.mark.usefixtures("history")
class TestReviewFigures:
    def test_reopen_rate_csv(self, api):
        rows = csv_rows(get(api["head"], "reopen-rate", months=3, format="csv"))
        assert rows[0] == ["Month", "Tickets closed", "Tickets reopened", "Reopen rate (%)"]
        assert body_rows(rows) == [["2026-09", "1", "0", "0.0"], ["2026-10", "1", "1", "100.0"],
                                   ["2026-11", "2", "1", "50.0"],
                                   ["Whole period", "4", "2", "50.0"]]

    def test_satisfaction_by_assignee_xlsx(self, api):
        response = get(api["head"], "satisfaction", months=3, by="assignee", format="xlsx")
        [rows] = sheets(response).values()
        assert rows[0] == ("Assignee", "Ratings", "Average score", "Score 1", "Score 2",
                           "Score 3", "Score 4", "Score 5")
        assert body_rows(rows) == [("王磊", 3, 3.67, 0, 1, 0, 1, 1),
                                   ("李娜", 1, 3.0, 0, 0, 1, 0, 0),
                                   ("All", 4, 3.5, 0, 1, 1, 1, 1)]

    def test_mtta_and_mttr_by_month(self, api):
        [mtta] = sheets(get(api["head"], "mtta", months=3, format="xlsx")).values()
        assert body_rows(mtta) == [("2026-09", 1, 30.0, 30.0, 30.0),
                                   ("2026-10", 2, 8.0, 6.0, 10.0),
                                   ("2026-11", 2, 30.0, 20.0, 40.0), ("All", 5, 21.2, None, None)]
        rows = csv_rows(get(api["head"], "mttr", months=3, by="problem_type", format="csv"))
        assert rows[0][0] == "Problem type"
        assert ["Environment", "4", "1565.0", "240.0", "4380.0"] in body_rows(rows)

    def test_recurring_problems_list_each_ticket_with_its_link(self, api, history):
        response = get(api["head"], "recurring-problems", months=3, format="xlsx")
        workbook = load_workbook(io.BytesIO(response.content))
        sheet = workbook.active
        assert [c.value for c in sheet[1]] == [
            "Module", "Problem type", "Tickets in the period", "Ticket", "Title", "Status",
            "Submitted at", "Assignee", "Ticket page"]
        keys = [history["rejected"], history["reopened"], history["sept"]]
        assert [sheet.cell(row=r, column=4).value for r in (2, 3, 4)] == keys
        link = sheet.cell(row=2, column=4).hyperlink.target
        assert link == f"http://testserver/tickets/{keys[0]}/"
        assert sheet.cell(row=2, column=9).value == link
        assert sheet.cell(row=2, column=7).value == wall(2026, 11, 2, 9, 0)
        assert [sheet.cell(row=2, column=c).value for c in (1, 2, 3)] == [
            "支付模块", "Environment", 3]

    def test_review_workbook(self, api):
        with time_machine.travel(NOW, tick=False):
            response = api["head"].get("/reports/review-workbook", months=3)
        assert list(sheets(response)) == [
            "Reopen rate", "Satisfaction", "Time to acknowledge", "Time to resolve",
            "Recurring problems", "Recurring alerts"]

    def test_review_workbook_in_chinese(self, people):
        head = Api(people["head"], language="zh-hans")
        with time_machine.travel(NOW, tick=False):
            workbook = list(sheets(head.get("/reports/review-workbook", months=3)).values())
        problems = workbook[4]
        assert problems[0][:2] == ("模块", "问题类型")
        assert problems[0][4:7] == ("标题", "状态", "提交时间")
        assert problems[1][:2] == ("支付模块", "环境")


def test_text_that_looks_like_a_formula_stays_text(api):
    evil = {"=HYPERLINK(\"http://evil.example/\",\"click\")": "+10.0.0.1",
            "-2+3": "@SUM(A1)"}
    with time_machine.travel(NOW.replace(day=18), tick=False):
        for rule, host in evil.items():
            for _ in range(2):
                file_alert(api["duty"], rule, host, title="=1+1\tcmd|' /C calc'!A0")
        file(api["duty"], title="ok")
    params = {"months": 3, "min_tickets": 2}
    rows = csv_rows(get(api["head"], "recurring-alerts", format="csv", **params))
    cells = {cell for row in body_rows(rows) for cell in row}
    assert "'=HYPERLINK(\"http://evil.example/\",\"click\")" in cells
    assert {"'+10.0.0.1", "'-2+3", "'@SUM(A1)", "'=1+1\tcmd|' /C calc'!A0"} <= cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    workbook = load_workbook(io.BytesIO(
        get(api["head"], "recurring-alerts", format="xlsx", **params).content))
    values = [cell for row in workbook.active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in values)  # no formula anywhere
    texts = {cell.value for cell in values}
    assert {"'=HYPERLINK(\"http://evil.example/\",\"click\")", "'+10.0.0.1", "'-2+3",
            "'@SUM(A1)"} <= texts


def test_control_characters_do_not_break_the_workbook(api):
    with time_machine.travel(NOW.replace(day=18), tick=False):
        for _ in range(2):
            file_alert(api["duty"], "Disk\x07Usage", "10.0.3.7\x1b")
    response = get(api["head"], "recurring-alerts", months=3, min_tickets=2, format="xlsx")
    [rows] = sheets(response).values()
    assert body_rows(rows)[0][:3] == ("DiskUsage", "10.0.3.7", 2)


@pytest.mark.parametrize("name", DASHBOARD + REVIEW + ["dashboard-workbook", "review-workbook"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_submitters_and_strangers_get_no_file(api, name, file_format):
    response = api["submitter"].get(f"/reports/{name}", format=file_format)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert Client().get(f"/api/v1/reports/{name}", {"format": file_format}).status_code == 401


@pytest.mark.parametrize("name", DASHBOARD + REVIEW)
def test_every_figure_downloads_for_every_staff_role(api, name):
    for role in ("duty", "developer", "head"):
        response = get(api[role], name, format="xlsx")
        assert response.status_code == 200
        assert response["Content-Disposition"] == (
            f'attachment; filename="opsdesk-{name}-2026-11-19.xlsx"')
        assert len(load_workbook(io.BytesIO(response.content)).worksheets) == 1


def test_an_unknown_format_is_refused(api):
    response = api["head"].get("/reports/inflow", format="pdf")
    assert response.status_code == 422


def test_the_api_document_names_the_file_types(api):
    document = api["head"].client.get("/api/v1/openapi.json").json()
    for name in DASHBOARD + REVIEW:
        operation = document["paths"][f"/api/v1/reports/{name}"]["get"]
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv", XLSX}, name
        formats = next(p for p in operation["parameters"] if p["name"] == "format")
        assert formats["schema"]["enum"] == ["json", "csv", "xlsx"]
    for name in ("dashboard-workbook", "review-workbook"):
        content = document["paths"][f"/api/v1/reports/{name}"]["get"]["responses"]["200"]
        assert set(content["content"]) == {XLSX}
