"""A task left running by a worker that died is queued again, and after the third worker
died running it, marked failed; a live worker's tasks are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from opsdesk.runtime import recovery

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _running(*worker_ids: str, started=NOON) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING, args_kwargs={"args": [1], "kwargs": {}},
        task_path="opsdesk.sla.tasks.check_ticket_sla", backend_name="default",
        queue_name="default", run_after=get_date_max(), started_at=started,
        worker_ids=list(worker_ids),
    )


def test_a_task_whose_worker_died_is_queued_again():
    recovery.beat("alive", started_at=NOON, now=NOON)
    recovery.beat("dead", started_at=NOON, now=NOON)
    orphan, kept = _running("dead"), _running("alive")

    with time_machine.travel(NOON + timedelta(minutes=5), tick=False):
        recovery.beat("alive", started_at=NOON)
        outcome = recovery.recover_abandoned_tasks()

    orphan.refresh_from_db()
    kept.refresh_from_db()
    assert outcome == {"requeued": 1, "failed": 0}
    assert orphan.status == TaskResultStatus.READY
    assert DBTaskResult.objects.ready().filter(pk=orphan.pk).exists()
    assert kept.status == TaskResultStatus.RUNNING


def test_a_task_that_outlived_three_workers_is_failed_with_the_reason():
    task = _running("first", "second", "third")

    with time_machine.travel(NOON + timedelta(minutes=5), tick=False):
        recovery.recover_abandoned_tasks()

    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert "stopped 3 times" in task.traceback
    assert task.task_result.errors[0].exception_class is recovery.WorkerLost


def test_a_task_just_claimed_is_not_taken_from_its_worker_before_it_could_beat():
    task = _running("starting", started=NOON)

    with time_machine.travel(NOON + timedelta(seconds=30), tick=False):
        recovery.recover_abandoned_tasks()

    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_worker_stopping_cleanly_leaves_no_heartbeat():
    recovery.beat("leaving", started_at=NOON, now=NOON)
    assert recovery.youngest_heartbeat() == NOON

    recovery.stop_beating("leaving")

    assert recovery.youngest_heartbeat() is None
