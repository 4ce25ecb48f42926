"""Each dashboard figure, read through the API as the department head, is right for a desk
whose history is known ticket by ticket (see conftest.desk)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from tests.conftest import Api
from tests.reports.conftest import NOW

pytestmark = pytest.mark.usefixtures("desk")


def figure(api: Api, name: str, **params: Any) -> dict[str, Any]:
    with time_machine.travel(NOW, tick=False):
        response = api.get(f"/reports/{name}", **params)
    assert response.status_code == 200, response.json()
    return response.json()


def by_code(series: list[dict[str, Any]]) -> dict[str, list[int]]:
    return {s["code"]: s["values"] for s in series}


def test_open_tickets_by_module_and_priority(api):
    data = figure(api["head"], "open-tickets")
    assert [m["name"] for m in data["modules"]] == ["支付模块", "No module yet"]
    assert by_code(data["series"]) == {
        "urgent": [1, 0], "high": [0, 1], "medium": [0, 1], "low": [1, 0],
    }
    assert data["total"] == 4  # the resolved ticket is closed


def test_inflow_counts_each_day_in_shanghai_time_by_source(api):
    data = figure(api["head"], "inflow", days=7)
    assert data["days"][0] == "2026-11-13"
    assert data["days"][-1] == "2026-11-19"
    series = by_code(data["series"])
    # 00:10 on the 19th in Shanghai is still the 18th in UTC: it counts on the 19th.
    assert series["user_report"][-2:] == [1, 2]
    assert series["alert"][-2:] == [0, 1]
    assert sum(series["emergency"]) == 0
    assert data["total"] == 4  # the 10th is outside the last 7 days


def test_inflow_over_thirty_days_includes_the_old_ticket(api):
    data = figure(api["head"], "inflow", days=30)
    assert len(data["days"]) == 30
    day = data["days"].index("2026-11-10")
    assert by_code(data["series"])["user_report"][day] == 1
    assert data["total"] == 5


def test_inflow_in_another_time_zone_buckets_by_that_zone(api, people):
    people["head"].time_zone = "UTC"
    people["head"].save(update_fields=["time_zone"])
    data = figure(api["head"], "inflow", days=7)
    series = by_code(data["series"])
    assert data["days"][-2:] == ["2026-11-18", "2026-11-19"]
    # In UTC the after-midnight ticket (16:10 UTC on the 18th) joins the 18th.
    assert series["user_report"][-2:] == [2, 1]


def test_response_and_resolution_times_against_policy_targets(api):
    data = figure(api["head"], "times", days=7)
    urgent = next(r for r in data["response"] if r["priority"] == "urgent")
    assert urgent == {"priority": "urgent", "label": "Urgent", "count": 2,
                      "median_minutes": 5.0, "p90_minutes": 30.0, "target_minutes": 15.0}
    medium = next(r for r in data["response"] if r["priority"] == "medium")
    assert medium["count"] == 0
    assert medium["median_minutes"] is None
    assert medium["target_minutes"] == 120.0
    resolution = {r["priority"]: r for r in data["resolution"]}
    assert resolution["urgent"]["count"] == 1
    assert resolution["urgent"]["median_minutes"] == 120.0
    assert resolution["urgent"]["target_minutes"] == 240.0
    assert resolution["high"]["target_minutes"] == 540.0  # one 9-hour business day


def test_sla_compliance_per_day_and_breaches_now(api):
    data = figure(api["head"], "sla-compliance", days=7)
    assert data["response"]["met"][-2:] == [1, 0]
    assert data["response"]["total"][-2:] == [1, 1]
    assert data["response"]["percent"][-2:] == [100.0, 0.0]
    assert data["response"]["percent"][0] is None
    assert data["response"]["overall_percent"] == 50.0
    assert data["resolution"]["total"][-2:] == [1, 0]
    assert data["resolution"]["overall_percent"] == 100.0
    # Past due at noon: the after-midnight urgent ticket (resolution due 04:10), the medium
    # one (response due 11:30), the high alert (11:15) and the old low one (the 10th, 17:00).
    assert data["breached_now"] == 4


def test_backlog_age_groups_open_tickets_by_age(api):
    data = figure(api["head"], "backlog-age")
    assert data["groups"][0] == "under 1 day"
    assert by_code(data["series"]) == {
        "urgent": [1, 0, 0, 0, 0], "high": [1, 0, 0, 0, 0], "medium": [1, 0, 0, 0, 0],
        "low": [0, 0, 0, 1, 0],
    }


def test_module_filter_by_code_or_id(api, payment):
    by_code_ = figure(api["head"], "open-tickets", module="payment")
    by_id = figure(api["head"], "open-tickets", module=str(payment.pk))
    assert by_code_ == by_id
    assert by_code_["total"] == 2
    inflow = figure(api["head"], "inflow", days=7, module="payment")
    assert by_code(inflow["series"])["user_report"][-2:] == [1, 1]
    times = figure(api["head"], "times", days=7, module="payment")
    assert times["response"][0]["count"] == 2


def test_labels_follow_the_readers_language(people):
    head = Api(people["head"], language="zh-hans")
    data = figure(head, "open-tickets")
    assert {s["label"] for s in data["series"]} == {"紧急", "高", "中", "低"}
