"""``python -m bench.durability [--count N] [--rounds R]``: what a synced commit costs intake.

In WAL mode SQLite's ``synchronous=NORMAL`` syncs the log only at checkpoints: a commit
survives the process crashing, but the last commits before a power cut can be lost. ``FULL``
syncs the log at every commit. Alertmanager and mail servers do not resend what opsdesk
acknowledged, so this measures what ``FULL`` costs the writes that acknowledge something: a
ticket filed through the API, an Alertmanager notification of one new fault, and one of 100
alerts (a storm's unit). Each runs in-process (Django's test client) on a fresh SQLite database
in a temporary data folder, in rounds that alternate the two settings so that both see the
same machine; wall-clock time, since a sync is waiting, not CPU. The disk's own fsync time is
printed too: it is what each FULL commit adds, holding the write lock.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench import alert_storm
from bench.environment import Environment, session

MODES = ("NORMAL", "FULL")


@dataclass
class Timings:
    ms: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})

    def line(self, name: str) -> str:
        normal, full = (sorted(self.ms[m]) for m in MODES)
        extra = statistics.median(full) - statistics.median(normal)
        return (f"{name:<34} {_p(normal, 50):7.2f} {_p(normal, 95):7.2f}   "
                f"{_p(full, 50):7.2f} {_p(full, 95):7.2f}   {extra:+6.2f} "
                f"({extra / statistics.median(normal):+.0%})")


def _p(values: list[float], percent: int) -> float:
    return values[min(len(values) - 1, len(values) * percent // 100)]


def fsync_ms(folder: str, count: int) -> list[float]:
    """The disk's time to sync a small append, as each FULL commit of the log does."""
    times = []
    with tempfile.NamedTemporaryFile(dir=folder) as probe:
        for _ in range(count):
            probe.write(b"\0" * 8192)
            probe.flush()
            started = time.perf_counter()
            os.fsync(probe.fileno())
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="writes of each kind per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of NORMAL then FULL")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    env = Environment()
    with session(env):
        run(env, args.count, args.rounds)


def run(env: Environment, count: int, rounds: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.data import TicketFactory, create_people, token_for
    from opsdesk.intake import integrations

    call_command("migrate", verbosity=0)
    people = create_people()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.duty)}")
    _integration, secret = integrations.create_integration(name="durability", kind="alertmanager")
    alertmanager = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    tickets = TicketFactory(people, seed=5)
    faults = iter(range(10**9))

    def create() -> None:
        answer = api.post("/api/v1/tickets", data=json.dumps(tickets.payload()),
                          content_type="application/json")
        assert answer.status_code == 201, answer.content[:300]

    def notify(alerts: int) -> Callable[[], None]:
        def post() -> None:
            body = alert_storm.notification(
                0, [alert_storm.fault_alert(next(faults)) for _ in range(alerts)])
            answer = alertmanager.post(alert_storm.URL, data=body,
                                       content_type="application/json")
            assert answer.status_code == 200, answer.content[:300]
        return post

    writes = {"create (POST /api/v1/tickets)": create,
              "Alertmanager, 1 new fault": notify(1),
              "Alertmanager, 100 new faults": notify(100)}
    timings = {name: Timings() for name in writes}
    for write in writes.values():  # warm-up: imports, caches, the first statements
        for _ in range(10):
            write()
    for _ in range(rounds):
        for mode in MODES:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous={mode}")
            for name, write in writes.items():
                for _ in range(count):
                    started = time.perf_counter()
                    write()
                    timings[name].ms[mode].append((time.perf_counter() - started) * 1000)
    syncs = fsync_ms(env.data_dir, max(count, 50))
    print(f"{count} writes of each kind x {rounds} rounds per setting; wall-clock ms per write")
    print(f"{'':<34} {'NORMAL p50':>7} {'p95':>7}   {'FULL p50':>7} {'p95':>7}   FULL adds")
    for name, timing in timings.items():
        print(timing.line(name))
    print(f"fsync of the data folder's disk: p50 {_p(syncs, 50):.2f} ms, "
          f"p95 {_p(syncs, 95):.2f} ms")


if __name__ == "__main__":
    main()
