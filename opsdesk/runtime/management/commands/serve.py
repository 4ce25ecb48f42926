"""Serve opsdesk with Granian, a production WSGI server (never Django's runserver)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from opsdesk.runtime import logs

# Threads running requests in each web process: a second one keeps the process answering
# (health checks, reads) while the first waits for a database lock (bench.faults).
THREADS_PER_PROCESS = 2


def granian_argv(*, host: str, port: int, workers: int, threads: int = THREADS_PER_PROCESS,
                 application: str = "opsdesk.runtime.wsgi:application") -> list[str]:
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--blocking-threads", str(threads), "--no-access-log",
        "--respawn-failed-workers", "--log-config", str(granian_log_config()),
        application,
    ]


def granian_log_config() -> Path:
    """Granian's own lines (starting, workers spawned or lost) in opsdesk's log format, from a
    file in the data folder (Granian reads its logging configuration only from a file)."""
    path = Path(settings.DATA_DIR) / "granian-logging.json"
    config = json.dumps(logs.granian_config(log_format=settings.OPSDESK_LOG_FORMAT), indent=1)
    if not path.exists() or path.read_text() != config:
        # Whole or not at all: another server starting on the same folder may be reading it.
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(config)
        partial.replace(path)
    return path


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
