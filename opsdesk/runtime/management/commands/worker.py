"""Run the background worker: the django-tasks database worker for queued and scheduled tasks,
the dispatcher of new tickets, and the periodic safety sweeps (SLA thresholds, notification
retries)."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from opsdesk.runtime import dispatcher, periodic
from opsdesk.tickets.dispatch import dispatch_all


class Command(BaseCommand):
    help = ("Run the background worker: queued and scheduled tasks, the dispatching of new "
            "tickets, and the sweeps.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")

    def handle(self, *args: Any, batch: bool, **options: Any) -> None:
        if batch:
            dispatch_all()
            for job in periodic.default_jobs():
                job.run()
            call_command("db_worker", queue_name="*", batch=True, no_startup_delay=True,
                         verbosity=options["verbosity"])
            return
        stop = threading.Event()
        dispatcher.start(stop)
        periodic.start(stop)
        try:
            # Verbosity 1 logs every task run; 0 only what opsdesk itself logs.
            call_command("db_worker", queue_name="*", interval=1, verbosity=options["verbosity"])
        finally:
            stop.set()
