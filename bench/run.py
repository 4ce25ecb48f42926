"""``python -m bench [--quick] [--postgres URL] [--no-write]``: the whole benchmark, start to end.

1. A fresh data folder and database (SQLite, or a PostgreSQL database ``opsdesk_bench`` created
   and dropped on the given server), migrated, with people in every role and API tokens.
2. ``opsdesk serve`` (Granian, 2 workers) on a free port; ``/api/v1/ping`` answers.
3. One sequential keep-alive client: the no-op ceiling, then tickets created per second.
4. A fresh database again, then tickets loaded in bulk to each size, and the list endpoint's
   latency for each query shape at each size, as the duty engineer and as a submitter.
5. The table printed and written to ``bench/README.md``; the server stopped, everything removed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench.cpu import CpuMonitor
from bench.environment import Environment, command_line, session
from bench.server import Server, wait_dispatched

CREATE_TARGET = 400.0  # tickets per second
DISPATCH_TIMEOUT = 300.0  # s the worker may take to dispatch what the create measure filed
FILTERED_P95_TARGET = 30.0  # ms, the status + priority list ...
FILTERED_TARGET_AT = 100_000  # ... at 100,000 tickets (so --quick checks no latency target)
HEADLINE = "status + priority: the filtered list"


@dataclass(frozen=True)
class Sizes:
    ping: int
    create: int
    warmup: int
    stages: tuple[int, ...]
    requests: int


FULL = Sizes(ping=5000, create=3000, warmup=300, stages=(10_000, 100_000), requests=300)
QUICK = Sizes(ping=1000, create=500, warmup=100, stages=(2_000, 10_000), requests=60)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="Smaller sizes (2,000 and 10,000 tickets), for a fast check; "
                             "does not update README.md unless --write.")
    parser.add_argument("--postgres", metavar="URL",
                        help="Run against PostgreSQL: a database 'opsdesk_bench' is created and "
                             "dropped on this server (e.g. postgres://postgres@127.0.0.1:5432/test).")
    parser.add_argument("--workers", type=int, default=2, help="Server workers (default 2).")
    parser.add_argument("--no-worker", action="store_true",
                        help="Create without 'opsdesk worker' beside the server: what filing "
                             "costs alone (the tickets then stay undispatched); does not "
                             "update README.md unless --write.")
    parser.add_argument("--embedded", action="store_true",
                        help="Serve as 'make run' does: one web process with the worker inside "
                             "it, instead of 'opsdesk serve' beside 'opsdesk worker'; does not "
                             "update README.md unless --write.")
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="Update README.md even with --quick.")
    write.add_argument("--no-write", action="store_true", help="Do not update README.md.")
    return parser.parse_args(argv)



def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env = Environment(postgres_url=args.postgres)
    with session(env) as servers:
        server = Server(env=env.env, data_dir=env.data_dir, workers=args.workers,
                        with_worker=not args.no_worker, embedded=args.embedded)
        servers.append(server)
        results = Benchmark(args, env, server).run()
    from bench import report

    print("\n" + report.console(results))
    if args.write or not (args.quick or args.no_write or args.no_worker or args.embedded):
        report.write_readme(results)
        print(f"\nwritten to {report.README}")
    sys.exit(1 if results.missed else 0)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Benchmark:
    def __init__(self, args: argparse.Namespace, env: Environment, server: Server) -> None:
        self.args = args
        self.sizes = QUICK if args.quick else FULL
        self.env = env
        self.server = server
        self.cpu = CpuMonitor(lambda: env.helper_pids() | server.worker_pids())
        self.notes: list[str] = []

    def timed(self, measure: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one measurement, noting how busy the rest of the machine was meanwhile."""
        with self.cpu.measure() as usage:
            result = measure(*args, **kwargs)
        result.other_cpu = usage.other
        if usage.server_seconds is not None:
            # Warm-up requests are inside the window too: spread over all of them.
            requests = result.timings.count + result.warmup
            result.server_cpu_ms = usage.server_seconds * 1000 / requests
        return result

    def prepare_database(self) -> None:
        from django.core.management import call_command

        from bench import data

        log("migrating a fresh database")
        call_command("migrate", interactive=False, verbosity=0)
        self.people = data.create_people()
        self.duty_token = data.token_for(self.people.duty)
        # A regular submitter: neither the busiest nor a one-off reporter.
        self.submitter = self.people.submitters[20]
        self.submitter_token = data.token_for(self.submitter)
        self.factory = data.TicketFactory(self.people, seed=42)
        self.sla = data.SlaClocks()
        self._close_connections()

    def _close_connections(self) -> None:
        # The bench process keeps no connection (nor SQLite read snapshot) while the server runs.
        from django.db import connections

        connections.close_all()

    def start_server(self) -> None:
        log(f"starting opsdesk serve ({self.args.workers} workers) on port {self.server.port}")
        self.server.start()
        assert self.server.process is not None
        self.cpu.pgid = self.server.process.pid

    def run(self) -> Any:
        from bench import data, report
        from bench.client import Client
        from bench.scenarios import measure_create, measure_ping

        command = command_line("bench", sys.argv[1:], bare="make bench")
        self.prepare_database()
        results = report.Results(
            backend=self.env.backend, date=time.strftime("%Y-%m-%d %H:%M UTC%z"), command=command,
            machine=report.machine(), software=report.software(data.database_description()),
            workers=self.args.workers,
        )
        self._close_connections()
        self.start_server()
        s = self.sizes

        client = Client(self.server.port)
        log(f"ping: {s.ping:,} requests")
        results.rates.append(self.timed(measure_ping, client, s.ping, warmup=s.warmup))
        client.close()

        client = Client(self.server.port, self.duty_token)
        log(f"create: {s.warmup:,} warm-up then {s.create:,} tickets")
        lag = 0.0

        def create_and_dispatch() -> Any:
            nonlocal lag
            rate = measure_create(client, self.factory.payload, s.create, s.warmup,
                                  target=CREATE_TARGET)
            if self.args.no_worker:
                return rate
            lag = wait_dispatched(DISPATCH_TIMEOUT)
            if lag >= DISPATCH_TIMEOUT:
                raise RuntimeError(f"The worker did not dispatch in {DISPATCH_TIMEOUT:.0f} s:\n"
                                   f"{self.server.log()}")
            return rate

        results.rates.append(self.timed(create_and_dispatch))
        client.close()
        results.notes.append(
            "No worker ran beside the server (--no-worker): the created tickets were not "
            "dispatched." if self.args.no_worker else
            f"The worker had dispatched every created ticket (routed it, started its SLA clocks, "
            f"told people) {lag:.2f} s after the last create was answered; its CPU is counted "
            "in the create's server CPU.")
        if self.args.embedded:
            results.notes.append("Served as 'make run' serves (--embedded): one web process "
                                 "with the worker inside it.")
        if client.connects > 1:
            results.notes.append(f"The create client reconnected {client.connects - 1} times.")

        # The list measurements start from an empty database again, so that the tickets created
        # above (all new, all filed now) do not distort the loaded distributions.
        log("stopping the server; a fresh database for the list measurements")
        self.server.stop()
        self.env.reset_database()
        self.prepare_database()
        # Lists need no worker, and one would be busy with the loaded history (its SLA clocks
        # breached long ago) on the cores the list requests are measured on.
        self.server.with_worker = False
        self.start_server()
        for stage in s.stages:
            results.loads.append((stage, self.load_to(stage)))
            results.latencies += self.measure_lists(stage)
        results.notes += self.notes
        return results

    def load_to(self, total: int) -> float:
        from django.utils import timezone

        from bench import data

        have = data.ticket_count()
        missing = total - have
        log(f"bulk loading {missing:,} tickets (to {total:,})")
        # The largest size is two years of a desk's history (100,000 tickets) ending now; a
        # smaller size is the same desk earlier on, measured as of then: its newest tickets
        # are the open ones. Ids and submission times rise together, as in a real desk.
        now, last = timezone.now(), self.sizes.stages[-1]
        history = timedelta(days=730 * last / 100_000)
        start = data.newest_submitted_at() if have else now - history
        end = now - history * (1 - total / last)
        started = time.perf_counter()
        data.bulk_load(self.factory, missing, start=start, end=end, sla=self.sla)
        if self.sla.problem and self.sla.problem not in self.notes:
            self.notes.append(self.sla.problem)
        seconds = time.perf_counter() - started
        data.refresh_statistics()
        self._close_connections()
        log(f"loaded in {seconds:.1f} s")
        return seconds

    def measure_lists(self, tickets: int) -> list[Any]:
        from bench.client import Client
        from bench.scenarios import Latency, deep_cursor, measure_list, measure_pages

        people = self.people
        n, warm = self.sizes.requests, 10
        out: list[Latency] = []
        duty = Client(self.server.port, self.duty_token)
        submitter = Client(self.server.port, self.submitter_token)

        def lst(client: Client, name: str, variants: list[dict[str, Any]], note: str = "",
                target: float | None = None) -> None:
            log(f"  {name}")
            out.append(self.timed(measure_list, client, name, tickets, variants, n, warm, note,
                                  target_p95_ms=target))

        log(f"list latency at {tickets:,} tickets, {n} requests each")
        lst(duty, "first page, no filter", [{}])
        lst(duty, "status filter", [{"status": st} for st in (
            "new", "assigned", "analysing", "in_progress", "awaiting_verification", "closed")],
            note="6 statuses in turn")
        lst(duty, HEADLINE, [
            {"status": "in_progress", "priority": "urgent"},
            {"status": ["new", "assigned"], "priority": ["urgent", "high"]},
            {"status": "analysing", "priority": "high"},
            {"status": ["new", "assigned", "analysing", "planning", "in_progress"],
             "priority": "urgent"},
            {"status": "closed", "priority": "medium"},
            {"status": "waiting", "priority": "low"},
        ], note="6 combinations in turn",
            target=FILTERED_P95_TARGET if tickets == FILTERED_TARGET_AT else None)
        lst(duty, "assignee filter",
            [{"assignee": u.username} for u in [*people.support[:3], *people.owners[:2]]],
            note="5 engineers in turn")
        lst(duty, "assignee + open statuses", [
            {"assignee": u.username,
             "status": ["assigned", "analysing", "planning", "in_progress", "waiting"]}
            for u in [*people.support[:3], *people.owners[:2]]], note="'my open tickets'")
        lst(duty, "module filter", [{"module": m.code} for m in people.modules[:6]],
            note="6 modules in turn")
        lst(duty, "text search, common word", [{"text": "登录"}, {"text": "超时"}],
            note="登录, 超时")
        lst(duty, "text search, no match", [{"text": "内存泄漏"}, {"text": "证书吊销"}],
            note="reads every ticket")
        log("  deep keyset pages")
        for name, params in (("deep keyset pages, newest first", {}),
                             ("deep keyset pages, by priority", {"order": "priority"})):
            cursor, skipped = deep_cursor(duty, tickets, params)
            out.append(self.timed(measure_pages, duty, name, tickets, params, cursor, n,
                                  note=f"from row {skipped:,} on"))
        own = _own_count(self.submitter)
        lst(submitter, "submitter: first page", [{}], note=f"sees {own:,} tickets")
        lst(submitter, "submitter: status filter", [{"status": "closed"}, {"status": "new"}])
        duty.close()
        submitter.close()
        return out


def _own_count(user: Any) -> int:
    from django.db import connections

    from bench import data

    count = data.own_ticket_count(user)
    connections.close_all()
    return count
