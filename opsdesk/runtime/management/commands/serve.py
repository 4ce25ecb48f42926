"""Serve opsdesk with Granian, a production WSGI server (never Django's runserver)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def granian_argv(*, host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--blocking-threads", "1", "--no-access-log", "--respawn-failed-workers",
        "opsdesk.runtime.wsgi:application",
    ]


class Command(BaseCommand):
    help = "Serve the web UI and the API with the production server (Granian)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("OPSDESK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("OPSDESK_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("OPSDESK_WEB_WORKERS", "2")),
            help="Web worker processes (default: 2, one per core on the reference machine).",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        argv = granian_argv(host=host, port=port, workers=workers)
        os.execv(argv[0], argv)
