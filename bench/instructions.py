"""``python -m bench.instructions [--count N]``: the instructions a create and a ping execute,
what the worker's dispatching of a created ticket executes, in the small batches it takes
while reports keep arriving (a run that creates and dispatches, less one that only creates),
and what the "all open" queue costs: its API page and its workspace page, signed in, each
showing the warm-up's 40 routed tickets.

Time on this machine wanders by a third from hour to hour, and a change of a few percent is
lost in it. Instructions do not wander: each request is counted under valgrind's cachegrind
(Debian's ``valgrind``), as a run of ``N`` requests less a run of none (the same start-up and
warm-up), in-process through Django's test client as ``bench.create_cpu`` files them, on a copy
of one prepared SQLite database. Figures repeat within about 1%. What they leave out is the
kernel's work (the write-ahead log's writes) and the cost of cache misses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WARM_UP = 40  # requests before the counted ones: imports, caches, the first statements


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="requests counted (100)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N", "FOLDER"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        kind, count, folder = args.child
        _requests(kind, int(count), Path(folder))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind).")
    with tempfile.TemporaryDirectory(prefix="opsdesk-instructions-") as folder:
        prepared = Path(folder) / "prepared"
        _run([sys.executable, "-m", "bench.instructions", "--child", "prepare", "0",
              str(prepared)])
        nothing = _instructions("ping", 0, prepared)
        created = _instructions("create", args.count, prepared)
        for kind, counted in (("ping", _instructions("ping", args.count, prepared) - nothing),
                              ("create", created - nothing),
                              ("list", _instructions("list", args.count, prepared) - nothing),
                              ("queue", _instructions("queue", args.count, prepared) - nothing)):
            print(f"{kind}: {counted / args.count / 1e6:.3f} M instructions per request "
                  f"({args.count} counted)")
        dispatched = _instructions("dispatch", args.count, prepared) - created
        print(f"dispatch: {dispatched / args.count / 1e6:.3f} M instructions per ticket, in the "
              f"batches taken while intake is busy ({args.count} counted)")


def _instructions(kind: str, count: int, prepared: Path) -> int:
    done = _run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                 "--cachegrind-out-file=/dev/null", sys.executable, "-m", "bench.instructions",
                 "--child", kind, str(count), str(prepared)])
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        sys.exit(f"cachegrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    # The same hash seed in every run: set and dict orders, hence the work, repeat.
    done = subprocess.run(argv, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[:6])} … failed:\n{done.stderr[-3000:]}")
    return done


def _requests(kind: str, count: int, prepared: Path) -> None:
    """In a child: prepare the database (``prepare``), or make ``count`` requests on a copy."""
    folder = prepared if kind == "prepare" else Path(tempfile.mkdtemp(prefix="opsdesk-run-"))
    if kind != "prepare":
        shutil.rmtree(folder)
        shutil.copytree(prepared, folder)
    os.environ.update({"OPSDESK_DATA_DIR": str(folder), "OPSDESK_DATABASE_URL": "",
                       "OPSDESK_LOG_LEVEL": "WARNING", "OPSDESK_DEBUG": "false",
                       "DJANGO_SETTINGS_MODULE": "opsdesk.settings"})
    import gc

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from opsdesk.accounts.models import User
    from opsdesk.tickets.choices import OPEN_STATUSES
    from opsdesk.tickets.dispatch import BUSY_BATCH, dispatch_all, dispatch_due

    try:
        if kind == "prepare":
            from bench.data import TicketFactory, create_people, token_for

            call_command("migrate", verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)  # the pages' files
            people = create_people()
            factory = TicketFactory(people, seed=3)
            spec = {"token": token_for(people.duty), "duty": people.duty.pk,
                    "payloads": [factory.payload() for _ in range(WARM_UP + 2000)]}
            (folder / "requests.json").write_text(json.dumps(spec, default=str))
            return
        spec = json.loads((folder / "requests.json").read_text())
        client = Client(HTTP_AUTHORIZATION=f"Bearer {spec['token']}")
        payloads = iter(spec["payloads"])

        def create() -> None:
            answer = client.post("/api/v1/tickets", data=json.dumps(next(payloads)),
                                 content_type="application/json")
            assert answer.status_code == 201, answer.content

        def ping() -> None:
            assert client.get("/api/v1/ping").status_code == 200

        every_open = "&".join(f"status={s.value}" for s in OPEN_STATUSES)

        def list_open() -> None:
            answer = client.get(f"/api/v1/tickets?{every_open}&limit=50")
            assert answer.status_code == 200 and len(answer.json()["items"]) == WARM_UP

        browser = Client()
        browser.force_login(User.objects.get(pk=spec["duty"]))

        def queue_page() -> None:
            answer = browser.get(f"/tickets/?queue=all&{every_open}")
            assert answer.status_code == 200 and answer.content.count(b"<tr") > WARM_UP

        for _ in range(WARM_UP):
            create()
            ping()
        dispatch_all()
        for _ in range(3):  # the templates compiled, the pages' first statements
            list_open()
            queue_page()
        gc.collect()
        gc.freeze()  # as the server does (runtime/wsgi.py)
        request = {"ping": ping, "list": list_open, "queue": queue_page}.get(kind, create)
        for _ in range(count):
            request()
        if kind == "dispatch":
            while dispatch_due(BUSY_BATCH):
                pass
    finally:
        connections.close_all()
        if kind != "prepare":
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
