"""The review's figures, read through the API as the department head, for a desk whose three
months are known ticket by ticket (see conftest.history): each expected value is worked out by
hand from the fixture's times."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from tests.conftest import Api
from tests.reports.conftest import NOW

pytestmark = pytest.mark.usefixtures("history")


def figure(api: Api, name: str, **params: Any) -> dict[str, Any]:
    with time_machine.travel(NOW, tick=False):
        response = api.get(f"/reports/{name}", months=3, **params)
    assert response.status_code == 200, response.json()
    return response.json()


def rows(data: dict[str, Any], *fields: str) -> dict[str | None, tuple[Any, ...]]:
    return {g["key"]: tuple(g[f] for f in fields) for g in data["groups"]}


def test_reopen_rate_per_month_counts_reopening_and_rejected_fixes(api):
    data = figure(api["head"], "reopen-rate")
    assert data["months"] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    # September: the first ticket; October: the reopened one (its last closing); November:
    # the one whose fix was rejected, and the one closed at 00:30 on the 1st.
    assert data["closed"] == [1, 1, 2]
    assert data["reopened"] == [0, 1, 1]
    assert data["percent"] == [0.0, 100.0, 50.0]
    assert (data["total_closed"], data["total_reopened"], data["overall_percent"]) == (4, 2, 50.0)


def test_reopen_rate_months_are_the_readers(api, people):
    people["head"].time_zone = "UTC"
    people["head"].save(update_fields=["time_zone"])
    data = figure(api["head"], "reopen-rate")
    # 00:30 on 1 November in Shanghai is 16:30 on 31 October in UTC.
    assert data["closed"] == [1, 2, 1]
    assert data["percent"] == [0.0, 50.0, 100.0]


def test_reopen_rate_of_a_module(api):
    data = figure(api["head"], "reopen-rate", module="network")
    assert data["closed"] == [0, 0, 1]
    assert data["percent"] == [None, None, 0.0]


def test_satisfaction_by_month(api):
    data = figure(api["head"], "satisfaction")
    assert data["by"] == "month"
    assert rows(data, "count", "average", "scores") == {
        "2026-09": (1, 5.0, [0, 0, 0, 0, 1]),
        "2026-10": (1, 2.0, [0, 1, 0, 0, 0]),
        "2026-11": (2, 3.5, [0, 0, 1, 1, 0]),
    }
    assert (data["count"], data["average"], data["scores"]) == (4, 3.5, [0, 1, 1, 1, 1])


def test_satisfaction_by_module_and_assignee(api, people, payment):
    by_module = figure(api["head"], "satisfaction", by="module")
    assert [g["label"] for g in by_module["groups"]] == ["支付模块", "网络"]  # most first
    assert rows(by_module, "count", "average")[str(payment.pk)] == (3, 3.67)
    by_assignee = figure(api["head"], "satisfaction", by="assignee")
    assert rows(by_assignee, "label", "count", "average", "scores") == {
        people["owner"].username: ("王磊", 3, 3.67, [0, 1, 0, 1, 1]),
        people["support"].username: ("李娜", 1, 3.0, [0, 0, 1, 0, 0]),
    }


def test_mtta_by_month_median_and_p90(api):
    data = figure(api["head"], "mtta")
    # September 30; October 10 and 6 (the 22:06 acknowledgement); November 20 and 40.
    assert rows(data, "count", "mean_minutes", "median_minutes", "p90_minutes") == {
        "2026-09": (1, 30.0, 30.0, 30.0),
        "2026-10": (2, 8.0, 6.0, 10.0),
        "2026-11": (2, 30.0, 20.0, 40.0),
    }
    assert (data["count"], data["mean_minutes"]) == (5, 21.2)


def test_mtta_by_assignee_problem_type_source_and_module(api, people, payment):
    by_assignee = figure(api["head"], "mtta", by="assignee")
    assert rows(by_assignee, "count", "mean_minutes", "median_minutes", "p90_minutes") == {
        people["owner"].username: (4, 25.0, 20.0, 40.0),  # 10, 20, 30, 40
        people["support"].username: (1, 6.0, 6.0, 6.0),
    }
    by_type = figure(api["head"], "mtta", by="problem_type")
    assert [g["key"] for g in by_type["groups"]] == [
        "code", "environment", "data", "requirement", None]
    types = rows(by_type, "label", "count", "median_minutes", "p90_minutes")
    assert types["environment"] == ("Environment", 4, 10.0, 30.0)  # 6, 10, 20, 30
    assert types[None] == ("Not classified yet", 1, 40.0, 40.0)  # the open one
    assert types["code"] == ("Code", 0, None, None)
    by_source = figure(api["head"], "mtta", by="source")
    assert rows(by_source, "count")["user_report"] == (5,)
    assert rows(by_source, "count")["alert"] == (0,)
    by_module = figure(api["head"], "mtta", by="module")
    assert [g["label"] for g in by_module["groups"]] == ["支付模块", "网络"]
    assert rows(by_module, "count", "median_minutes")[str(payment.pk)] == (4, 20.0)


def test_mttr_by_month_counts_from_filing_to_the_last_resolution(api):
    data = figure(api["head"], "mttr")
    assert rows(data, "count", "mean_minutes", "median_minutes", "p90_minutes") == {
        "2026-09": (1, 240.0, 240.0, 240.0),
        # Filed 10-05 10:00, resolved again after reopening 10-08 11:00.
        "2026-10": (1, 4380.0, 4380.0, 4380.0),
        # 140 (resolved 00:20 on 1 November) and 1,500 (after the rejected fix).
        "2026-11": (2, 820.0, 140.0, 1500.0),
    }
    assert data["count"] == 4


def test_mttr_of_a_module(api):
    data = figure(api["head"], "mttr", module="network", by="assignee")
    assert [(g["label"], g["count"], g["median_minutes"]) for g in data["groups"]] == [
        ("李娜", 1, 140.0)]


def test_recurring_problems_list_the_newest_tickets(api, history, payment):
    data = figure(api["head"], "recurring-problems")
    assert data["min_tickets"] == 3
    assert data["more_groups"] == 0
    [group] = data["groups"]
    assert group["module"] == {"id": payment.pk, "name": "支付模块"}
    assert (group["problem_type"], group["problem_type_label"], group["count"]) == (
        "environment", "Environment", 3)
    assert [t["key"] for t in group["tickets"]] == [
        history["rejected"], history["reopened"], history["sept"]]
    assert group["tickets"][0]["status"] == "closed"
    assert group["tickets"][0]["assignee"] == "王磊"
    assert figure(api["head"], "recurring-problems", min_tickets=4)["groups"] == []
    two = figure(api["head"], "recurring-problems", min_tickets=2)
    assert [g["count"] for g in two["groups"]] == [3]  # the network ticket is alone


def test_recurring_problems_within_the_period(api):
    # From November to January, only the rejected fix is a classified payment ticket.
    with time_machine.travel(NOW.replace(year=2027, month=1), tick=False):
        data = api["head"].get("/reports/recurring-problems", months=3, min_tickets=2).json()
    assert data["groups"] == []  # November to January: one payment ticket


def test_unknown_breakdown_and_bad_thresholds_are_refused(api):
    head = api["head"]
    assert head.get("/reports/mtta", by="weekday").status_code == 422
    assert head.get("/reports/satisfaction", by="source").status_code == 422
    response = head.get("/reports/reopen-rate", months=24)
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "months"
    assert "3, 6, 12" in response.json()["message"]
    for bad in (1, 1001, "many"):
        assert head.get("/reports/recurring-problems", min_tickets=bad).status_code == 422
