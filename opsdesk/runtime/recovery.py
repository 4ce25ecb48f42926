"""Workers saying they are alive, and tasks left running by a worker that died.

A worker killed (or cut off from the database) while it ran a task leaves that task marked
RUNNING, and no worker would ever touch it again. Every live worker writes a heartbeat; a
running task whose worker's heartbeat is older than ``ABANDONED_AFTER`` is queued again, and
after ``MAX_CLAIMS`` workers died running it, marked failed instead: a task that kills its
worker every time must not kill every worker in turn. opsdesk's tasks may run twice (a
delivery is claimed before it is sent; an SLA check is idempotent), and the periodic sweeps
catch what a failed one left undone.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from opsdesk.runtime.models import WorkerHeartbeat

log = logging.getLogger("opsdesk.runtime")

HEARTBEAT_SECONDS = 10
# A worker silent this long is dead: well past a heartbeat missed during a database stall.
ABANDONED_AFTER = timedelta(minutes=2)
MAX_CLAIMS = 3


class WorkerLost(Exception):
    """What a task that outlived its workers failed with."""


def new_worker_id() -> str:
    """Unique among every worker that ever ran, readable in the task list: host-pid-random."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


def beat(worker_id: str, *, started_at: datetime, now: datetime | None = None) -> None:
    """Say that ``worker_id`` is alive."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": now},
        create_defaults={"seen_at": now, "started_at": started_at,
                         "host": socket.gethostname()[:255], "pid": os.getpid()},
    )


def stop_beating(worker_id: str) -> None:
    """A worker that stops cleanly says so, so its tasks need not wait to be recovered."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def youngest_heartbeat(*, host: str | None = None) -> datetime | None:
    """When a worker (of ``host``, if given) last said it was alive."""
    beats = WorkerHeartbeat.objects.all() if host is None else \
        WorkerHeartbeat.objects.filter(host=host[:255])
    return beats.order_by("-seen_at").values_list("seen_at", flat=True).first()


def recover_abandoned_tasks(*, now: datetime | None = None) -> dict[str, int]:
    """Queue again (or fail, after MAX_CLAIMS) every running task whose worker is dead;
    forget heartbeats of workers long dead. Returns how many of each."""
    now = now or timezone.now()
    horizon = now - ABANDONED_AFTER
    requeued = failed = 0
    with transaction.atomic():
        alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=horizon)
                    .values_list("worker_id", flat=True))
        running = (DBTaskResult.objects.select_for_update(skip_locked=True)
                   .filter(status=TaskResultStatus.RUNNING, started_at__lt=horizon))
        for task in running:
            if task.worker_ids and task.worker_ids[-1] in alive:
                continue
            if len(task.worker_ids) >= MAX_CLAIMS:
                _fail(task, now)
                failed += 1
            else:
                task.status = TaskResultStatus.READY
                task.run_after = get_date_max()  # the queue's "as soon as possible"
                task.save(update_fields=["status", "run_after"])
                requeued += 1
        WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()
    if requeued or failed:
        log.warning("tasks abandoned by dead workers: %d queued again, %d failed",
                    requeued, failed)
    return {"requeued": requeued, "failed": failed}


def _fail(task: DBTaskResult, now: datetime) -> None:
    task.status = TaskResultStatus.FAILED
    task.finished_at = now
    task.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
    task.traceback = (f"{WorkerLost.__qualname__}: the workers running this task stopped "
                      f"{len(task.worker_ids)} times ({', '.join(task.worker_ids)}); "
                      "it is not tried again.\n")
    task.return_value = None
    task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback",
                             "return_value"])
