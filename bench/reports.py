"""``python -m bench.reports [--postgres URL] [--count N]``: every report at a million tickets.

1. A fresh data folder and database (SQLite in WAL mode, or ``--postgres URL``: a database
   ``opsdesk_reports`` created and dropped on that server, apart from the other benchmarks'),
   migrated, with the harness's people and modules (``bench.data``).
2. ``--count`` (default 1,000,000) tickets over two years ending now, drawn from the main
   benchmark's distributions (``bench.data.TicketFactory``) and inserted in bulk with
   ``opsdesk.runtime.rows``, with what the reports read: SLA clocks (``bench.data.SlaClocks``,
   the first response after a random share of its target), reopenings and rejected fixes
   (``reopen_count``: 6% of closed tickets once, 1% twice) and the submitters' ratings (a third
   of the closed tickets a person filed, mostly 4 and 5). No timeline events: no report reads
   them. Then VACUUM ANALYZE on PostgreSQL, as autovacuum would have.
3. ``opsdesk serve`` (Granian, 2 workers, no task worker) and one keep-alive client as the
   department head: each report of the dashboard and of the monthly review over its longest
   period (90 days, 12 months), each breakdown, with and without a module filter, the CSV and
   XLSX downloads and both workbooks. Target: each report answers in about a second
   (p95 ≤ 1,000 ms; the workbooks, which hold six figures, are shown without a target).
4. The indexes the reports read are the shipped ones (the migrations'): ticket_recurring and
   ticket_alert_recurring on the tickets, sla_response_times and sla_resolution_times on the
   clocks. The load is done before the migrations that build them (``INDEX_MIGRATIONS``),
   which then run as an upgrade would run them, each timed: what an upgrade costs at this size.

Prints a table and writes it to bench/README.md (``--no-write``: print only); exit status 1
when a target is missed. Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.client import Client, Timings
from bench.cpu import CpuMonitor
from bench.dashboards import log
from bench.environment import Environment, command_line, session
from bench.server import Server
from bench.sla_scale import ScaleEnvironment

TARGET_MS = 1000.0
README = Path(__file__).with_name("README.md")
BATCH = 5000
DAYS, MONTHS = "90", "12"
# The migrations that build the reports' indexes, each app with the migration before it.
INDEX_MIGRATIONS = (("sla", "0008_readable_labels"), ("tickets", "0017_review_timeline_kind"))


class ReportsEnvironment(ScaleEnvironment):
    database_name = "opsdesk_reports"


@dataclass
class Figure:
    name: str
    detail: str
    timings: Timings
    kilobytes: float
    target: bool = True
    server_ms: float | None = None
    other_cpu: float | None = None

    @property
    def met(self) -> bool | None:
        return self.timings.percentile(95) <= TARGET_MS if self.target else None


@dataclass
class Results:
    backend: str
    count: int
    command: str
    machine: str
    software: str
    load_seconds: float = 0.0
    ratings: int = 0
    migration_seconds: dict[str, float] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)

    @property
    def missed(self) -> list[str]:
        return [f"{f.name} ({f.detail}): p95 {f.timings.percentile(95):.0f} ms"
                for f in self.figures if f.met is False]


# --- loading --------------------------------------------------------------------------------


def load(people: Any, count: int, *, start: datetime, end: datetime, seed: int = 42) -> int:
    """Insert ``count`` tickets with their clocks and ratings; the number of ratings."""
    from django.db import transaction

    from bench import data
    from opsdesk.runtime import rows
    from opsdesk.tickets.choices import Status
    from opsdesk.tickets.models import SupportRating

    factory = data.TicketFactory(people, seed=seed)
    rng = random.Random(seed + 1)
    sla = data.SlaClocks()
    ratings = 0
    tickets = factory.rows(count, start, end)
    done = 0
    while chunk := [t for t, _by in _take(tickets, BATCH)]:
        for ticket in chunk:
            if ticket.status in (Status.CLOSED, Status.ARCHIVED):
                ticket.reopen_count = rng.choices((0, 1, 2), weights=(93, 6, 1))[0]
        with transaction.atomic():
            rows.insert(chunk)
            clocks = sla.clocks(chunk)
            for clock in clocks:
                _vary_response(clock, rng)
            rows.append(clocks)
            rated = [_rating(SupportRating, t, rng, end) for t in chunk
                     if t.closed_at is not None and t.submitter_id is not None
                     and t.submitter_id != people.duty.pk and rng.random() < 0.35]
            rows.append(rated)
        if sla.problem:
            raise RuntimeError(sla.problem)
        ratings += len(rated)
        done += len(chunk)
        if done % 100_000 < BATCH:
            log(f"  {done:,} tickets")
    return ratings


def _take(iterator: Any, n: int) -> list[Any]:
    return [row for _ in range(n) if (row := next(iterator, None)) is not None]


def _vary_response(clock: Any, rng: random.Random) -> None:
    """The first response after 5–150% of its target, not at a fixed third of it."""
    if clock.responded_at is None:
        return
    took = clock.response_target * rng.uniform(0.05, 1.5)
    if clock.resolved_at is not None:
        took = min(took, clock.resolved_at - clock.started_at)
    clock.responded_at = clock.started_at + took
    clock.response_time = took


def _rating(model: Any, ticket: Any, rng: random.Random, end: datetime) -> Any:
    at = min(ticket.closed_at + timedelta(hours=rng.uniform(0.1, 48)), end)
    return model(ticket_id=ticket.pk, rated_by_id=ticket.submitter_id, created_at=at,
                 score=rng.choices((1, 2, 3, 4, 5), weights=(3, 5, 12, 35, 45))[0])


# --- measuring ------------------------------------------------------------------------------


def variants(module: str) -> list[tuple[str, dict[str, str], bool]]:
    """(report, parameters, held to the target) for every measurement."""
    ranged, monthly = {"days": DAYS}, {"months": MONTHS}
    out: list[tuple[str, dict[str, str], bool]] = []
    for name in ("open-tickets", "backlog-age"):
        out += [(name, {}, True), (name, {"format": "xlsx"}, True)]
    for name in ("inflow", "times", "sla-compliance"):
        out += [(name, ranged, True), (name, {**ranged, "module": module}, True),
                (name, {**ranged, "format": "csv"}, True)]
    out.append(("dashboard-workbook", ranged, False))
    out += [("reopen-rate", monthly, True), ("reopen-rate", {**monthly, "module": module}, True),
            ("reopen-rate", {**monthly, "format": "xlsx"}, True)]
    for by in ("month", "module", "assignee"):
        out.append(("satisfaction", {**monthly, "by": by}, True))
    out.append(("satisfaction", {**monthly, "module": module}, True))
    for name in ("mtta", "mttr"):
        for by in ("month", "module", "problem_type", "source", "assignee"):
            out.append((name, {**monthly, "by": by}, True))
        out += [(name, {**monthly, "module": module}, True),
                (name, {**monthly, "format": "xlsx"}, True)]
    for name in ("recurring-problems", "recurring-alerts"):
        out += [(name, monthly, True), (name, {**monthly, "module": module}, True),
                (name, {**monthly, "min_tickets": "20"}, True),
                (name, {**monthly, "format": "xlsx"}, True)]
    out.append(("review-workbook", monthly, False))
    return out


def measure(client: Client, name: str, params: dict[str, str], requests: int, cpu: CpuMonitor,
            *, target: bool) -> Figure:
    path = f"/api/v1/reports/{name}"
    status, body, _elapsed = client.call("GET", path, params=params)  # warm-up, and a check
    if status != 200:
        raise RuntimeError(f"GET {path} {params}: {status} {body[:300]!r}")
    latencies = []
    with cpu.measure() as usage:
        began = time.perf_counter()
        for _ in range(requests):
            latencies.append(client.call("GET", path, params=params)[2])
        wall = time.perf_counter() - began
    detail = ", ".join(f"{k}={v}" for k, v in params.items()) or "—"
    server_ms = None if usage.server_seconds is None else usage.server_seconds * 1000 / requests
    return Figure(name, detail, Timings(latencies, wall), len(body) / 1024, target,
                  server_ms, usage.other)


def measure_all(client: Client, module: str, requests: int, cpu: CpuMonitor) -> list[Figure]:
    log(f"each report, {requests} requests each")
    return [measure(client, name, params, requests, cpu, target=target)
            for name, params, target in variants(module)]


# --- output ---------------------------------------------------------------------------------


HEADER = ["report", "parameters", "requests", "KB", "p50 ms", "p95 ms",
          "server CPU ms/req", "others' CPU", "target"]


def rows(results: Results) -> list[list[str]]:
    out = []
    for f in results.figures:
        verdict = "" if f.met is None else f"{'✓' if f.met else '✗'} p95 ≤ {TARGET_MS:.0f} ms"
        out.append([f.name, f.detail, f"{f.timings.count}", f"{f.kilobytes:.1f}",
                    f"{f.timings.percentile(50):.1f}", f"{f.timings.percentile(95):.1f}",
                    "?" if f.server_ms is None else f"{f.server_ms:.1f}",
                    "?" if f.other_cpu is None else f"{f.other_cpu * 100:.0f}%", verdict])
    return out


def summary(results: Results) -> list[str]:
    rate = results.count / results.load_seconds if results.load_seconds else 0.0
    built = ", ".join(f"{name} {s:.1f} s" for name, s in results.migration_seconds.items())
    return [f"{results.count:,} tickets over two years with SLA clocks and "
            f"{results.ratings:,} ratings; bulk load {results.load_seconds:.0f} s "
            f"({rate:,.0f} tickets/s)",
            f"the reports' index migrations run after the load: {built}"]


def console(results: Results) -> str:
    from bench import report

    missed = results.missed
    return "\n".join([
        f"opsdesk reports — {results.backend}, {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine:  {results.machine}", f"software: {results.software}",
        f"command:  {results.command}", *summary(results), "",
        report.text_table(HEADER, rows(results)), "",
        *(["Targets missed:", *(f"  {m}" for m in missed)]
          if missed else ["All targets met."]),
    ])


def markdown(results: Results) -> str:
    from bench import report

    missed = results.missed
    return "\n".join([
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC%z')} with `{results.command}`.", "",
        f"- Machine: {results.machine}", f"- Software: {results.software}",
        *(f"- {line}" for line in summary(results)), "",
        report.markdown_table(HEADER, rows(results)), "",
        ("**Targets missed:** " + "; ".join(missed)) if missed else "All targets met.",
    ])


def write_readme(results: Results) -> None:
    """Replace this backend's reports block in README.md; the rest of the file is kept."""
    from bench import report

    report.replace_block(f"reports:{results.backend}",
                         f"### Reports, last results: {results.backend}", markdown(results))


# --- the run --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000,
                        help="tickets to load (default 1,000,000)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run against a database 'opsdesk_reports' created (and dropped) "
                             "on this server, e.g. postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=10,
                        help="requests per report and parameters (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--no-write", action="store_true", help="do not update README.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    env = ReportsEnvironment(postgres_url=args.postgres)
    with session(env) as servers:
        server = Server(env=env.env, data_dir=env.data_dir, workers=args.workers,
                        with_worker=False)
        servers.append(server)
        results = run(args, env, server)
    print("\n" + console(results))
    if not args.no_write:
        write_readme(results)
        print(f"\nwritten to {README}")
    sys.exit(1 if results.missed else 0)


def run(args: argparse.Namespace, env: Environment, server: Server) -> Results:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from bench import data, report

    cpu = CpuMonitor(env.helper_pids)
    log(f"migrating a fresh {env.backend} database")
    call_command("migrate", interactive=False, verbosity=0)
    for app, before in INDEX_MIGRATIONS:
        call_command("migrate", app, before, interactive=False, verbosity=0)
    people = data.create_people()
    token = data.token_for(people.head)
    results = Results(backend=env.backend, count=args.count,
                      command=command_line("bench.reports", args.argv),
                      machine=report.machine(),
                      software=report.software(data.database_description()))
    log(f"bulk loading {args.count:,} tickets with their SLA clocks and ratings")
    now = timezone.now()
    began = time.perf_counter()
    results.ratings = load(people, args.count, start=now - timedelta(days=730), end=now)
    results.load_seconds = time.perf_counter() - began
    for app, _before in INDEX_MIGRATIONS:
        log(f"running {app}'s index migration after the load")
        began = time.perf_counter()
        call_command("migrate", app, interactive=False, verbosity=0)
        results.migration_seconds[app] = time.perf_counter() - began
    data.refresh_statistics(vacuum=True)
    module = people.modules[1].code  # the second busiest module
    connections.close_all()

    log(f"starting opsdesk serve ({args.workers} workers) on port {server.port}")
    server.start()
    assert server.process is not None
    cpu.pgid = server.process.pid
    client = Client(server.port, token)
    results.figures += measure_all(client, module, args.requests, cpu)
    client.close()
    server.stop()
    return results


if __name__ == "__main__":
    main()
