"""Plans are written in the admin: the checklist inline, the schedule checked, the next run
computed on save."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from opsdesk.inspections.models import InspectionPlan
from tests.inspections.conftest import MORNING, SH

pytestmark = pytest.mark.django_db


def form(owner, schedule="0 9 * * 1-5", **changes):
    return {
        "name": "机房硬件巡检", "description": "", "module": "", "owner": owner.pk,
        "schedule": schedule, "time_zone": "Asia/Shanghai", "grace_minutes": 90,
        "default_impact": "few_users", "default_urgency": "normal", "active": "on",
        "items-TOTAL_FORMS": 2, "items-INITIAL_FORMS": 0,
        "items-0-order": 1, "items-0-title": "检查 RAID 状态", "items-0-guidance": "",
        "items-1-order": 2, "items-1-title": "检查电源冗余", "items-1-guidance": "双路供电",
        **changes,
    }


def test_an_admin_writes_a_plan_with_its_checklist(admin_client, people):
    with time_machine.travel(MORNING, tick=False):
        response = admin_client.post("/admin/inspections/inspectionplan/add/",
                                     form(people["owner"]))

    assert response.status_code == 302, response.content.decode()[:2000]
    plan = InspectionPlan.objects.get()
    assert [item.title for item in plan.items.all()] == ["检查 RAID 状态", "检查电源冗余"]
    assert plan.next_due_at == datetime(2026, 11, 25, 9, 0, tzinfo=SH)

    with time_machine.travel(MORNING, tick=False):
        admin_client.post(f"/admin/inspections/inspectionplan/{plan.pk}/change/", form(
            people["owner"], schedule="30 17 * * 5", **{
                "items-INITIAL_FORMS": 2, "items-0-id": plan.items.all()[0].pk,
                "items-0-plan": plan.pk, "items-1-id": plan.items.all()[1].pk,
                "items-1-plan": plan.pk}))
    plan.refresh_from_db()
    assert plan.next_due_at == datetime(2026, 11, 27, 17, 30, tzinfo=SH)


def test_a_bad_schedule_or_zone_is_refused_on_the_form(admin_client, people):
    response = admin_client.post("/admin/inspections/inspectionplan/add/",
                                 form(people["owner"], schedule="0 25 * * *",
                                      time_zone="Mars/Olympus"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "hour: 25 is not valid (allowed: 0-23)" in page and "Mars/Olympus" in page
    assert not InspectionPlan.objects.exists()
