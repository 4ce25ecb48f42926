"""``python -m bench.storm_cpu [--profile]``: a storm notification's CPU, in-process.

The server-free view of ``python -m bench.alert_storm``: Django's test client posts the same
storm (10,000 alerts of 2,000 faults in notifications of 100) to the Alertmanager intake of a
fresh SQLite database, and the CPU time per notification is printed beside the no-op ping's
(their ratio is what carries over between machines). Nearly all of it is spent inside the
write transaction that SQLite lets one notification hold at a time, so it bounds the storm's
rate. ``--profile`` adds cProfile's view of the storm.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time

from bench import alert_storm
from bench.environment import Environment, session

WARM_UP = 10  # notifications: imports, caches, the first statements


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.storm_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 40")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    env = Environment()
    with session(env):
        run(alert_storm.prepare(env), profile=args.profile)


def run(secret: str, *, profile: bool) -> None:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    bodies = alert_storm.storm(alerts=10_000, batch=100, distinct=2_000)

    def post(body: bytes) -> None:
        answer = client.post(alert_storm.URL, data=body, content_type="application/json")
        assert answer.status_code == 200, answer.content[:300]

    for body in bodies[:WARM_UP]:
        post(body)
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for body in bodies[WARM_UP:]:
        post(body)
    if profiler:
        profiler.disable()
    per_notification = (time.process_time() - started) * 1000 / (len(bodies) - WARM_UP)
    started = time.process_time()
    for _ in range(1000):
        client.get("/api/v1/ping")
    ping = time.process_time() - started  # seconds for 1,000: milliseconds for one
    print(f"notification of 100 alerts {per_notification:.2f} ms CPU, ping {ping:.3f} ms: "
          f"ratio {per_notification / ping:.0f}" + (" (profiled)" if profiler else ""))
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
