"""``python -m bench.create_cpu [--count N] [--profile]``: a create's CPU, in-process.

The server-free view of ``POST /api/v1/tickets``: Django's test client files tickets into a
fresh SQLite database as the duty engineer, and the best of five rounds of CPU time per create
is printed beside the no-op ping's (their ratio is what carries over between machines), then
what the worker's dispatching costs per ticket. ``--profile`` adds cProfile's view of a round.

As in the server, what was loaded before the first round is frozen out of the garbage
collector's sight (runtime/wsgi.py), and as in the worker, the write-ahead log is checkpointed
between rounds (runtime/sqlite): otherwise a round that happened to pass 8,000 logged pages
paid for the checkpoint and the figures wandered by a fifth from run to run.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import sys
import time
from collections.abc import Callable

from bench.environment import Environment, session

ROUNDS = 5


def best_ms(action: Callable[[], object], count: int) -> float:
    from opsdesk.runtime.sqlite import checkpoint

    best = float("inf")
    for _ in range(ROUNDS):
        checkpoint()  # what the worker does every second
        started = time.process_time()
        for _ in range(count):
            action()
        best = min(best, (time.process_time() - started) * 1000 / count)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.create_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="creates per round")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 40")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    env = Environment()
    with session(env):
        run(args.count, profile=args.profile)


def run(count: int, *, profile: bool) -> None:
    from django.core.management import call_command
    from django.test import Client

    from bench.data import TicketFactory, create_people, token_for
    from opsdesk.runtime.sqlite import checkpoint
    from opsdesk.tickets.dispatch import dispatch_all

    call_command("migrate", verbosity=0)
    people = create_people()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.duty)}")
    factory = TicketFactory(people, seed=3)

    def create() -> None:
        answer = client.post("/api/v1/tickets", data=json.dumps(factory.payload()),
                             content_type="application/json")
        assert answer.status_code == 201, answer.content

    def ping() -> None:
        client.get("/api/v1/ping")

    for _ in range(count):  # warm-up: imports, caches, the first statements
        create()
    dispatch_all()
    gc.collect()
    gc.freeze()
    create_ms, ping_ms = best_ms(create, count), best_ms(ping, count)
    print(f"create {create_ms:.2f} ms CPU, ping {ping_ms:.3f} ms: ratio {create_ms / ping_ms:.1f}")
    dispatch_all()
    for _ in range(count):
        create()
    checkpoint()
    started = time.process_time()
    dispatched = dispatch_all()
    print(f"dispatching {(time.process_time() - started) * 1000 / dispatched:.2f} ms CPU per "
          f"ticket ({dispatched} in batches)")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            create()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
