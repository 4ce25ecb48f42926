"""The upgrade that gave targets a unit keeps what every policy and open clock meant: run for
real, back to the durations of before and forward again, on a throw-away desk."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.runtime.desk import Desk, throwaway_desk

SETUP = """
from datetime import timedelta
from django.utils import timezone
from opsdesk.accounts.models import User
from opsdesk.sla.models import BusinessCalendar, Clock, SlaPolicy
from opsdesk.tickets import services
workdays = BusinessCalendar.objects.get()
for name, amount, unit in [("four and a half hours", "4.5", "hours"),
                           ("eighteen hours", "18", "hours")]:
    SlaPolicy.objects.create(name=name, order=999, response_amount=30,
                             response_unit="minutes", resolution_amount=amount,
                             resolution_unit=unit, calendar=workdays)
ticket = services.create_ticket(
    by=User.objects.get(username="desk-submitter"), title="报表导出乱码", impact="few_users",
    urgency="normal", description="导出的 Excel 中文乱码", occurred_at=timezone.now(),
    steps_to_reproduce="导出本月报表", error_message="乱码", impact_scope="财务部",
    submitter_contact="分机 8021")
# Paused after a third of a working day.
Clock.objects.filter(ticket=ticket).update(resolution_spent=timedelta(days=1) / 3,
                                           running_since=None, paused_at=timezone.now())
"""

READ = """
import json
from django.utils import translation
from opsdesk.sla.models import Clock, SlaPolicy
translation.activate("en")
print(json.dumps({
    "policies": {p.name: [str(p.response), str(p.resolution)]
                 for p in SlaPolicy.objects.order_by("order", "id")},
    "clock": [[str(c.resolution_days), c.resolution_spent.total_seconds()]
              for c in Clock.objects.all()][0],
}))
"""


def read(desk: Desk) -> dict[str, Any]:
    return dict(json.loads(desk.opsdesk("shell", "--no-imports", "-c", READ)))


def durations(desk: Desk) -> dict[str, Any]:
    """The policies' and the clock's durations as they were stored before the upgrade."""
    def seconds(value: Any) -> float:
        # SQLite keeps a duration as microseconds, PostgreSQL as an interval.
        return value.total_seconds() if isinstance(value, timedelta) else value / 1e6

    rows = desk.query("SELECT name, response_target, resolution_target FROM sla_slapolicy")
    [(spent,)] = desk.query("SELECT resolution_spent FROM sla_clock")
    return {"policies": {name: [seconds(r) / 3600, seconds(s) / 3600] for name, r, s in rows},
            "spent_hours": seconds(spent) / 3600}


def test_targets_keep_their_meaning_down_and_up_again(tmp_path: Path) -> None:
    with throwaway_desk(tmp_path) as desk:
        desk.opsdesk("shell", "-c", SETUP, env={"OPSDESK_DISPATCH": "inline"})
        now = read(desk)
        assert now["policies"] == {
            "紧急 · urgent": ["15 minutes", "4 hours"],
            "高 · high": ["15 minutes", "1 business day"],
            "中 · medium": ["2 hours", "3 business days"],
            "低 · low": ["2 hours", "10 business days"],
            "four and a half hours": ["30 minutes", "4.5 hours"],
            "eighteen hours": ["30 minutes", "18 hours"],
        }
        assert now["clock"] == ["3.00", 86400 / 3]

        desk.opsdesk("migrate", "sla", "0004", "--verbosity", "0")
        before = durations(desk)
        assert before["policies"] == {
            "紧急 · urgent": [0.25, 4], "高 · high": [0.25, 9], "中 · medium": [2, 27],
            "低 · low": [2, 90], "four and a half hours": [0.5, 4.5],
            "eighteen hours": [0.5, 18],
        }
        assert before["spent_hours"] == 3  # a third of a 9-hour day

        desk.opsdesk("migrate", "--verbosity", "0")
        after = read(desk)
    # As the desk had them, except what was a whole number of working days all along.
    assert after["policies"] == {**now["policies"],
                                 "four and a half hours": ["30 minutes", "270 minutes"],
                                 "eighteen hours": ["30 minutes", "2 business days"]}
    assert after["clock"] == now["clock"]
