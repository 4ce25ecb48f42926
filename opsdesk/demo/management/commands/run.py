"""Everything ``make run`` needs: migrate, load the demo on first start, collect static files,
then serve the web app with the worker inside its process (opsdesk/runtime/embedded.py),
restarted should it exit (opsdesk/runtime/supervise.py), until interrupted. A command of the
demo's: the runtime serves whatever desk it is given and knows nothing of demo data."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from opsdesk.demo.loader import demo_is_loaded, login_help
from opsdesk.runtime.management.commands.serve import THREADS_PER_PROCESS, granian_argv


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
        self.stdout.write(self.style.SUCCESS(f"opsdesk is running on http://{host}:{port}/"))
        self.stdout.write(f"  API docs: http://{host}:{port}/api/docs   admin: http://{host}:{port}/admin/")
        self.stdout.write(login_help(f"http://{host}:{port}"))
        self.stdout.write("Press Ctrl+C to stop.")
        self.stdout.flush()
        # Only warnings from the worker here, so the sign-in table stays on screen.
        os.environ.setdefault("OPSDESK_LOG_LEVEL", "WARNING")
        # The worker's messages link to where this run serves (--host/--port included).
        os.environ["OPSDESK_HOST"], os.environ["OPSDESK_PORT"] = host, str(port)
        # One web process whose threads also run the worker (runtime/embedded.py): Django is
        # loaded once, not three times (two web processes and the worker: 450 MiB at peak
        # before, bench.memory). As many request threads as two processes had.
        children = {"web server": embedded_server_argv(host=host, port=port)}
        # The supervisor replaces this process: it needs none of the Django loaded here.
        argv = [sys.executable, "-m", "opsdesk.runtime.supervise", json.dumps(children)]
        os.execv(argv[0], argv)


def embedded_server_argv(*, host: str, port: int) -> list[str]:
    """Granian serving the web app with the worker inside (what ``opsdesk run`` supervises;
    bench --embedded measures it)."""
    return granian_argv(host=host, port=port, workers=1, threads=2 * THREADS_PER_PROCESS,
                        application="opsdesk.runtime.embedded:application")
