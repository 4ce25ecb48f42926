"""Periodic jobs the worker runs beside the task queue: those the apps register (safety sweeps
that catch whatever a timer missed, such as a task lost with a crashed process or a clock
changed while the worker was down; the inspection scheduler; mail polling), SQLite's
checkpoint and the recovery of tasks that dead workers left running; and, in a thread of its
own, the worker's heartbeat, which a slow job (fetching mail, walking the attachments) must
never hold up: a worker silent for two minutes is taken for dead and its running task queued
again. A job that fails is logged and tried again after a growing
wait (runtime/backoff.py), never stopping the others."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from django.db import close_old_connections

from opsdesk.runtime.backoff import Backoff

if TYPE_CHECKING:
    from opsdesk.runtime.worker import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]


# Each app's jobs, registered in its AppConfig.ready() as a function that lists them: it runs
# only when a worker starts, so that settings decide then (a mailbox configured or not) and the
# web server never imports what only the jobs use.
_sources: list[Callable[[], Iterable[Job]]] = []


def register(jobs: Callable[[], Iterable[Job]]) -> None:
    """Have the worker run the jobs that ``jobs()`` lists (from AppConfig.ready())."""
    if jobs not in _sources:
        _sources.append(jobs)


def default_jobs(identity: Identity | None = None) -> list[Job]:
    """The worker's jobs: SQLite's checkpoint, with its ``identity`` the recovery of tasks
    that dead workers left running (its heartbeat runs apart: ``heartbeat``), then every
    app's."""
    from opsdesk.runtime import recovery
    from opsdesk.runtime.sqlite import checkpoint

    jobs = [Job("checkpoint", 1, checkpoint)]
    if identity is not None:
        jobs.append(Job("recover-tasks", 30, recovery.recover_abandoned_tasks))
    for source in _sources:
        jobs.extend(source())
    return jobs


def heartbeat(identity: Identity) -> Job:
    """The worker saying it is alive, run by ``start`` in a thread of its own."""
    from opsdesk.runtime import recovery

    return Job("heartbeat", recovery.HEARTBEAT_SECONDS, partial(_beat, identity))


def _beat(identity: Identity) -> None:
    from opsdesk.runtime import recovery

    recovery.beat(identity.worker_id, started_at=identity.started_at)


class Schedule:
    """When each job runs next: ``every_seconds`` (or a failure's longer wait) after its last
    run started, on a monotonic clock, so that a slow job delays the others only by the time
    it runs, never stretching their intervals."""

    def __init__(self, jobs: list[Job], now: float) -> None:
        self._next = dict.fromkeys((job.name for job in jobs), now)

    def is_due(self, job: Job, now: float) -> bool:
        return now >= self._next[job.name]

    def ran(self, job: Job, *, started: float, wait: float) -> None:
        self._next[job.name] = started + wait

    def seconds_to_next(self, now: float) -> float:
        return max(0.0, min(self._next.values(), default=now) - now)


def run_forever(stop: threading.Event, jobs: list[Job] | None = None, *,
                clock: Callable[[], float] = time.monotonic,
                wait: Callable[[float], object] | None = None) -> None:
    """Run each job every ``every_seconds`` until ``stop`` is set; a failing job is logged and
    tried again after a growing wait, never stopping the others. ``clock`` and ``wait`` (the
    stop event's by default) are the time it keeps and how it waits for the next job."""
    jobs = jobs if jobs is not None else default_jobs()
    wait = wait or stop.wait
    backoffs = {job.name: Backoff(f"periodic job {job.name}") for job in jobs}
    schedule = Schedule(jobs, clock())
    while not stop.is_set():
        for job in jobs:
            started = clock()
            if not schedule.is_due(job, started):
                continue
            pause = job.every_seconds
            try:
                close_old_connections()
                job.run()
            except Exception as error:
                pause = max(pause, backoffs[job.name].failed(error))
            else:
                backoffs[job.name].succeeded()
            schedule.ran(job, started=started, wait=pause)
        wait(schedule.seconds_to_next(clock()))


def start(stop: threading.Event, jobs: list[Job] | None = None, *,
          name: str = "opsdesk-periodic") -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(stop, jobs), name=name, daemon=True)
    thread.start()
    return thread
