"""The worker process (``opsdesk worker``): the task queue, the dispatcher of new tickets, the
periodic jobs and the heartbeat, each in a thread of its own and each outliving its database
going away and coming back.

The task queue is django-tasks-db's worker loop. Should the database fail under it (a
restart, a lock held past the timeout, a full disk), the loop is started again after a
growing wait instead of ending the process, under a new worker id: a task it was running when
the database went away is then recognisably abandoned (runtime/recovery.py) and queued again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from opsdesk.runtime import dispatcher, periodic, recovery
from opsdesk.runtime.backoff import Backoff

# A task loop that ran this long before failing was healthy: its next failure is a new outage.
HEALTHY_SECONDS = 60.0
# How long stopping a worker run in the background waits for its running task.
STOP_TIMEOUT = 10.0


@dataclass
class Identity:
    """This process's current worker id, which the heartbeat reports."""

    worker_id: str = field(default_factory=recovery.new_worker_id)
    started_at: datetime = field(default_factory=timezone.now)

    def renew(self) -> str:
        self.worker_id = recovery.new_worker_id()
        return self.worker_id


def run(*, interval: float = 1.0) -> None:
    """Run the worker until it is signalled to stop."""
    identity = Identity()
    stop = threading.Event()
    worker = _start_beside_tasks(identity, stop, interval)
    worker.configure_signals()
    try:
        run_tasks(worker, identity)
    finally:
        stop.set()
        # Without the database the heartbeat simply ages out.
        with contextlib.suppress(Exception):
            recovery.stop_beating(identity.worker_id)


def start_in_background(*, interval: float = 1.0) -> Callable[[], None]:
    """Run the worker in threads of this process, beside what it already runs (the web server
    of ``opsdesk run``, runtime/embedded.py); returns the function that stops it, which waits
    for a running task to end."""
    identity = Identity()
    stop = threading.Event()
    worker = _start_beside_tasks(identity, stop, interval)
    tasks = threading.Thread(target=run_tasks, args=(worker, identity), name="opsdesk-tasks",
                             daemon=True)
    tasks.start()

    def halt(timeout: float = STOP_TIMEOUT) -> None:
        if stop.is_set():
            return
        stop.set()
        worker.running = False  # the loop ends after its current task
        tasks.join(timeout)
        with contextlib.suppress(Exception):
            recovery.stop_beating(identity.worker_id)

    return halt


def _start_beside_tasks(identity: Identity, stop: threading.Event, interval: float) -> Worker:
    """Start the dispatcher, the periodic jobs and the heartbeat; the task queue's loop, not
    yet running."""
    dispatcher.start(stop)
    periodic.start(stop, periodic.default_jobs(identity=identity))
    # Apart from the other jobs, which may run for minutes: a late beat gets this worker's
    # running task queued again by another worker, and /readyz reports no worker alive.
    periodic.start(stop, [periodic.heartbeat(identity)], name="opsdesk-heartbeat")
    return Worker(
        queue_names=["*"], interval=interval, batch=False, backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False, max_tasks=None, worker_id=identity.worker_id,
        excluded_queue_names=[],
    )


def run_tasks(worker: Worker, identity: Identity) -> None:
    """Run the task queue's loop, starting it again after each failure of the database."""
    backoff = Backoff("the task queue")
    while worker.running:
        started = time.monotonic()
        try:
            worker.run()
            return
        except Exception as error:
            if time.monotonic() - started > HEALTHY_SECONDS:
                backoff.succeeded()
            wait = backoff.failed(error)
            worker.worker_id = identity.renew()
            time.sleep(wait)
