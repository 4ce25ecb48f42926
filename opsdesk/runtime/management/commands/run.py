"""Everything ``make run`` needs: migrate, load the demo on first start, collect static files,
then serve the web app and run the worker side by side until interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from opsdesk.demo.loader import demo_is_loaded, login_help
from opsdesk.runtime.management.commands.serve import granian_argv


class Command(BaseCommand):
    help = "Migrate, load demo data on first start, and serve the web app plus the worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("OPSDESK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("OPSDESK_PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")

    def handle(self, *args: Any, host: str, port: int, no_demo: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo and not demo_is_loaded():
            call_command("demo", verbosity=0)
        children = [
            # Only warnings from the worker here, so the sign-in table stays on screen.
            subprocess.Popen(
                [sys.executable, "-m", "opsdesk.cli", "worker", "--verbosity", "0"],
                env={"OPSDESK_LOG_LEVEL": "WARNING", **os.environ},
            ),
            subprocess.Popen(granian_argv(host=host, port=port, workers=2)),
        ]
        self.stdout.write(self.style.SUCCESS(f"opsdesk is running on http://{host}:{port}/"))
        self.stdout.write(f"  API docs: http://{host}:{port}/api/docs   admin: http://{host}:{port}/admin/")
        self.stdout.write(login_help(f"http://{host}:{port}"))
        self.stdout.write("Press Ctrl+C to stop.")
        self._supervise(children)

    def _supervise(self, children: list[subprocess.Popen[bytes]]) -> None:
        """Wait until one child exits or we are interrupted, then stop them all."""
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
