"""Days are the reader's days, also where daylight saving time makes one 25 hours long."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.reports.conftest import file

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def test_inflow_days_across_the_end_of_summer_time(api, people):
    # Sunday 2026-10-25 is 25 hours long in Berlin: clocks go from 03:00 back to 02:00.
    for moment in (berlin(2026, 10, 25, 0, 30), berlin(2026, 10, 25, 23, 30),
                   berlin(2026, 10, 26, 0, 30), berlin(2026, 10, 24, 23, 59)):
        with time_machine.travel(moment, tick=False):
            file(api["submitter"])
    people["head"].time_zone = "Europe/Berlin"
    people["head"].save(update_fields=["time_zone"])
    with time_machine.travel(berlin(2026, 10, 27, 9, 0), tick=False):
        data = api["head"].get("/reports/inflow", days=7).json()
    reports = next(s["values"] for s in data["series"] if s["code"] == "user_report")
    assert data["days"][-4:] == ["2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27"]
    assert reports[-4:] == [1, 2, 1, 0]


def test_compliance_days_in_shanghai_time(api, people):
    shanghai = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 11, 18, 23, 58, tzinfo=shanghai)) as travel:
        key = file(api["submitter"], impact="all_users", urgency="immediate")
        travel.move_to(datetime(2026, 11, 19, 0, 5, tzinfo=shanghai))
        assert api["duty"].act(key, "triage", assignee=people["owner"].username).status_code == 200
        assert api["owner"].act(key, "acknowledge").status_code == 200
        data = api["head"].get("/reports/sla-compliance", days=7).json()
    # Acknowledged at 00:05 on the 19th in Shanghai (16:05 UTC on the 18th), 7 minutes in.
    assert data["days"][-1] == "2026-11-19"
    assert data["response"]["met"][-2:] == [0, 1]
    assert data["response"]["total"][-2:] == [0, 1]
