"""The worker's scheduler: runs are created when due, once, on the plan's wall clock; overdue
runs remind the owner once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from opsdesk.inspections import services
from opsdesk.inspections.models import InspectionRun, RunStatus
from opsdesk.notify.choices import NotificationKind
from opsdesk.notify.models import Delivery
from opsdesk.runtime.periodic import default_jobs
from tests.inspections.conftest import MORNING, SH, make_plan

pytestmark = pytest.mark.django_db


def runs_of(plan):
    return list(InspectionRun.objects.filter(plan=plan).order_by("due_at"))


def test_a_new_plan_is_due_at_the_next_scheduled_moment(plan):
    assert plan.next_due_at == datetime(2026, 11, 25, 9, 0, tzinfo=SH)
    assert plan.time_zone == "Asia/Shanghai"
    assert plan.items.first().title == "检查 nginx 错误日志"


def test_a_run_is_created_when_due_and_only_once(plan):
    with time_machine.travel(MORNING + timedelta(minutes=59), tick=False):
        assert services.schedule_due_runs() == []
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=SH), tick=False):
        created = services.schedule_due_runs()
        again = services.schedule_due_runs()

    assert [run.due_at for run in created] == [datetime(2026, 11, 25, 9, 0, tzinfo=SH)]
    assert again == []
    (run,) = runs_of(plan)
    assert run.status == RunStatus.DUE
    assert run.overdue_at == datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    plan.refresh_from_db()
    assert plan.next_due_at == datetime(2026, 11, 26, 9, 0, tzinfo=SH)


def test_after_downtime_only_the_latest_missed_run_is_created(plan):
    with time_machine.travel(datetime(2026, 11, 28, 9, 30, tzinfo=SH), tick=False):
        services.schedule_due_runs()

    assert [run.due_at for run in runs_of(plan)] == [datetime(2026, 11, 28, 9, 0, tzinfo=SH)]
    plan.refresh_from_db()
    assert plan.next_due_at == datetime(2026, 11, 29, 9, 0, tzinfo=SH)


def test_month_end_plans_follow_the_calendar(people, payment):
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=SH), tick=False):
        plan = make_plan(people["owner"], payment, name="月末备份核查", schedule="0 23 31 * *")
    assert plan.next_due_at == datetime(2026, 12, 31, 23, 0, tzinfo=SH)
    for moment in ("2026-12-31 23:00", "2027-01-31 23:05", "2027-03-31 23:00"):
        with time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=SH), tick=False):
            services.schedule_due_runs()

    assert [run.due_at.astimezone(SH).date().isoformat() for run in runs_of(plan)] == [
        "2026-12-31", "2027-01-31", "2027-03-31"]


def test_a_plan_in_another_time_zone_runs_on_that_wall_clock(people, payment):
    with time_machine.travel(MORNING, tick=False):
        plan = make_plan(people["owner"], payment, name="东京机房巡检", time_zone="Asia/Tokyo")
    # 09:00 in Tokyo is 08:00 in Shanghai.
    assert plan.next_due_at == datetime(2026, 11, 26, 8, 0, tzinfo=SH)


def test_inactive_plans_are_not_scheduled(plan):
    plan.active = False
    plan.save()
    services.refresh_schedule(plan=plan)
    with time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=SH), tick=False):
        services.schedule_due_runs()
    assert runs_of(plan) == []


def test_an_overdue_run_notifies_its_owner_once(plan, people):
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=SH), tick=False):
        services.schedule_due_runs()
    with time_machine.travel(datetime(2026, 11, 25, 9, 59, tzinfo=SH), tick=False):
        assert services.notify_overdue_runs() == []
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=SH), tick=False):
        notified = services.notify_overdue_runs()
    with time_machine.travel(datetime(2026, 11, 25, 11, 0, tzinfo=SH), tick=False):
        assert services.notify_overdue_runs() == []

    assert len(notified) == 1
    (delivery,) = Delivery.objects.filter(notification_kind=NotificationKind.INSPECTION_OVERDUE)
    assert delivery.recipient == people["owner"]
    assert "支付服务器日常巡检" in delivery.subject
    assert "2026-11-25 09:00" in delivery.body


def test_a_done_run_is_never_overdue(plan, people):
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=SH), tick=False):
        (run,) = services.schedule_due_runs()
        items = list(plan.items.all())
        services.record_results(
            run_id=run.pk, by=people["owner"], finish=True,
            results=[services.ResultInput(item=item.pk, outcome="pass") for item in items],
        )
    with time_machine.travel(datetime(2026, 11, 26, 8, 0, tzinfo=SH), tick=False):
        assert services.notify_overdue_runs() == []
    assert not Delivery.objects.filter(notification_kind=NotificationKind.INSPECTION_OVERDUE)


def test_the_worker_runs_the_scheduler(plan):
    (job,) = [job for job in default_jobs() if job.name == "inspections"]
    with time_machine.travel(datetime(2026, 11, 25, 10, 30, tzinfo=SH), tick=False):
        job.run()
    (run,) = runs_of(plan)
    run.refresh_from_db()
    assert run.overdue_notified_at is not None
