"""Run the background worker: the django-tasks database worker for queued and scheduled tasks,
the dispatcher of new tickets, and the periodic jobs (SLA thresholds, notification retries,
the heartbeat). It outlives its database going away: see opsdesk/runtime/worker.py."""

from __future__ import annotations

import logging
import socket
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from opsdesk.runtime import dispatcher, periodic, recovery, worker
from opsdesk.runtime.health import HEARTBEAT_FRESH_FOR


class Command(BaseCommand):
    help = ("Run the background worker: queued and scheduled tasks, the dispatching of new "
            "tickets, and the sweeps.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")
        parser.add_argument(
            "--alive", action="store_true",
            help="Run nothing: exit 0 if a worker on this machine said it was alive within a "
                 "minute, else 1 (a container's health check).")

    def handle(self, *args: Any, batch: bool, alive: bool, **options: Any) -> None:
        if alive:
            seen_at = recovery.youngest_heartbeat(host=socket.gethostname())
            if seen_at is None or timezone.now() - seen_at > HEARTBEAT_FRESH_FOR:
                raise CommandError("No worker on this machine said it was alive within a minute.",
                                   returncode=1)
            return
        if batch:
            dispatcher.dispatch_all()
            for job in periodic.default_jobs():
                job.run()
            call_command("db_worker", queue_name="*", batch=True, no_startup_delay=True,
                         verbosity=options["verbosity"])
            return
        if options["verbosity"] > 1:  # every task run, not only failures
            logging.getLogger("django_tasks").setLevel(logging.INFO)
            logging.getLogger("django_tasks_db").setLevel(logging.INFO)
        worker.run(interval=1)
