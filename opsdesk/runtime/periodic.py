"""Periodic jobs the worker runs beside the task queue: safety sweeps that catch whatever a
timer missed (a task lost with a crashed process, a clock changed while the worker was down),
the inspection scheduler, and SQLite's checkpoint."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]


def default_jobs() -> list[Job]:
    from opsdesk.inspections.services import run_periodic_checks
    from opsdesk.intake.mail.imap import fetch_mail
    from opsdesk.notify.tasks import retry_due_deliveries
    from opsdesk.runtime.sqlite import checkpoint
    from opsdesk.sla.services import sweep

    jobs = [
        Job("checkpoint", 1, checkpoint),
        Job("sla-sweep", 30, sweep),
        Job("notify-retry", 60, retry_due_deliveries),
        Job("inspections", 30, run_periodic_checks),
    ]
    if settings.OPSDESK_IMAP_HOST:
        jobs.append(Job("fetchmail", settings.OPSDESK_IMAP_POLL_SECONDS, fetch_mail))
    return jobs


def run_forever(stop: threading.Event, jobs: list[Job] | None = None) -> None:
    """Run each job every ``every_seconds`` until ``stop`` is set; a failing job is logged and
    tried again next round, never stopping the others."""
    jobs = jobs if jobs is not None else default_jobs()
    next_run = dict.fromkeys((job.name for job in jobs), 0.0)
    clock = 0.0
    while not stop.is_set():
        for job in jobs:
            if clock >= next_run[job.name]:
                close_old_connections()
                try:
                    job.run()
                except Exception:
                    log.exception("periodic job %s failed", job.name)
                next_run[job.name] = clock + job.every_seconds
        stop.wait(1.0)
        clock += 1.0


def start(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(stop,), name="opsdesk-periodic",
                              daemon=True)
    thread.start()
    return thread
