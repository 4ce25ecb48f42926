"""``python -m bench.migrations [--tickets N]``: how long the migrations that add a column to
the tickets table hold a SQLite desk of N tickets (default 100,000).

A fresh data folder is migrated, N tickets are loaded through ``bench.data``, the tickets app
is taken back to 0010 (its later migrations and those that depend on them unapplied), and each
of tickets 0011, 0012 and 0013 is applied alone with ``python -m django migrate``, timed from
the outside. A migrate that has nothing to do is timed first: that is the start-up each figure
includes, and "holds the table" is the figure less it. Django's own AddField rebuilds the
table on SQLite (copies every row while writes wait); opsdesk's ``AddFieldInPlace`` adds the
column in place. To compare with an older checkout, run this file with that checkout first on
the path: ``PYTHONPATH=/path/to/old .venv/bin/python bench/migrations.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

import opsdesk

STEPS = ("0011", "0012", "0013")
LOAD = """
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from bench import data
end = timezone.now()
data.bulk_load(data.TicketFactory(data.create_people(), seed=42), {count},
               start=end - timedelta(days=700), end=end)
"""


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.migrations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="opsdesk-migrations-")
    env = dict(os.environ, OPSDESK_DATA_DIR=folder, DJANGO_SETTINGS_MODULE="opsdesk.settings")
    env.pop("OPSDESK_DATABASE_URL", None)

    def timed(*command: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, *command], env=env, check=True)
        return time.perf_counter() - started

    try:
        timed("-m", "django", "migrate", "-v", "0")
        load = timed("-c", LOAD.format(count=args.tickets))
        timed("-m", "django", "migrate", "tickets", "0010", "-v", "0")
        start_up = timed("-m", "django", "migrate", "tickets", "0010", "-v", "0")
        print(f"code: {os.path.dirname(opsdesk.__file__)}")
        print(f"{args.tickets:,} tickets loaded in {load:.1f} s; a migrate with nothing to do "
              f"takes {start_up:.2f} s")
        print("| migration | total s | holds the table s |")
        print("| --- | --: | --: |")
        for step in STEPS:
            total = timed("-m", "django", "migrate", "tickets", step, "-v", "0")
            print(f"| tickets {step} | {total:.2f} | {max(total - start_up, 0):.2f} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
