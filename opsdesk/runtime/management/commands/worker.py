"""Run the background worker (django-tasks, database backend)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background worker that executes queued and scheduled tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")

    def handle(self, *args: Any, batch: bool, **options: Any) -> None:
        call_command("db_worker", queue_name="*", batch=batch, interval=1)
