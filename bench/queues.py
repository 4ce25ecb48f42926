"""``python -m bench.queues [--postgres URL] [--requests R] [--no-write]``: the open queues as a
desk's archive and backlog grow.

1. A fresh data folder and database (SQLite in WAL mode, or ``--postgres URL``: a database
   ``opsdesk_queues`` created and dropped on that server), migrated, with the harness's people
   and modules (``bench.data``).
2. Four cases, built one on the other with ``bench.sla_scale``'s generator (tickets drawn as
   ``bench.data`` draws them, each with its SLA clock; raw batches):

   - 20,000 tickets, all open (an alert storm's backlog);
   - the same with 2,000 open (the rest closed, their clocks stopped);
   - 100,000 tickets, 10,000 open;
   - 1,000,000 tickets, 100,000 open.

   Of each batch's open tickets, four in five are among its newest and the rest spread over
   it (old tickets left open). SLA clocks: 4% of the running ones breached, 6% at risk.
3. For each case ``opsdesk serve`` (Granian, 2 web processes) and ``opsdesk worker`` run, and
   one keep-alive client times, through the API, the queues a desk lives in: every open state
   newest first ("all open"), the unassigned (new) tickets, the busiest engineer's open
   tickets ("mine", as that engineer), and the SLA queues (breached, at risk; most overdue
   first): the first page again and again, then the following pages one after another
   (``next_cursor``); then the same queues' workspace pages, signed in. Target: p95 ≤ 30 ms
   for each, whatever the number of open tickets (the growth column: p95 against the first
   case's).

Prints a table, writes it to bench/README.md (``--no-write``: print only), exit status 1 when a
target is missed. Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.client import Client, Timings
from bench.cpu import CpuMonitor
from bench.environment import command_line, session
from bench.server import Server
from bench.sla_scale import (
    BATCH,
    Generator,
    ScaleEnvironment,
    copy_rows,
    insert_sql,
    log,
    policies_by_priority,
)

TARGET_MS = 30.0
WARMUP = 20
SETTLED_CPU = 0.05  # the worker's share of a core once its start-up jobs are done
OPEN_AMONG_NEWEST = 0.8


@dataclass(frozen=True)
class Case:
    tickets: int
    open: int

    @property
    def label(self) -> str:
        return f"{self.tickets:,} tickets, {self.open:,} open"


CASES = (Case(20_000, 20_000), Case(20_000, 2_000), Case(100_000, 10_000),
         Case(1_000_000, 100_000))


class QueuesEnvironment(ScaleEnvironment):
    database_name = "opsdesk_queues"


@dataclass
class Figure:
    case: Case
    queue: str
    where: str  # "API, first page", "API, next pages", "workspace page"
    timings: Timings
    rows: float
    other_cpu: float | None = None

    @property
    def p95(self) -> float:
        return self.timings.percentile(95)

    @property
    def met(self) -> bool:
        return self.p95 <= TARGET_MS


@dataclass
class Results:
    backend: str
    command: str
    machine: str
    software: str
    load_seconds: dict[str, float] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if not f.met]


# --- loading --------------------------------------------------------------------------------


class Loader:
    """Adds tickets with their clocks, ``open`` of them open, to what is already there."""

    def __init__(self, people: Any, now: datetime) -> None:
        from django.db import connection

        self.gen = Generator(people, policies_by_priority(), now, connection.vendor, seed=29)
        self.rng = random.Random(31)

    def add(self, count: int, open_count: int) -> float:
        from django.core.management.color import no_style
        from django.db import connection, transaction

        from bench.sla_scale import CLOCK_COLUMNS
        from opsdesk.sla.models import Clock
        from opsdesk.tickets.choices import Status
        from opsdesk.tickets.models import Ticket

        started = time.perf_counter()
        gen, rng, qn = self.gen, self.rng, connection.ops.quote_name
        newest = round(open_count * OPEN_AMONG_NEWEST)
        opened = set(range(count - newest, count))
        opened |= set(rng.sample(range(count - newest), open_count - newest))
        first_id = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        ticket_sql = insert_sql(Ticket._meta.db_table, gen.ticket_columns, qn)
        clock_sql = insert_sql(Clock._meta.db_table, CLOCK_COLUMNS, qn)
        sqlite = connection.vendor == "sqlite"
        closed_at = gen.ti["closed_at"]
        for offset in range(0, count, BATCH):
            tickets, clocks = [], []
            for position in range(offset, min(offset + BATCH, count)):
                is_open = position in opened
                status = (rng.choices(gen.open, cum_weights=gen.open_cum)[0] if is_open
                          else Status.AWAITING_VERIFICATION)
                impact = rng.choices(gen.impacts, cum_weights=gen.impact_cum)[0]
                urgency = rng.choices(gen.urgencies, cum_weights=gen.urgency_cum)[0]
                priority = gen.matrix[(impact, urgency)]
                policy = gen.policies[priority]
                start, clock = gen.draw_clock(rng, policy, status)
                ticket_id = first_id + position
                row = gen.ticket_row(ticket_id, (start, impact, urgency, priority, status, clock))
                if not is_open:  # verified and closed after its fix
                    row[gen.ti["status"]] = Status.CLOSED
                    row[closed_at] = gen.dt(clock[8] + rng.uniform(600, 86400))
                tickets.append(row)
                clocks.append(gen.clock_row(ticket_id, policy, clock))
            with transaction.atomic(), connection.cursor() as cursor:
                if sqlite:
                    cursor.executemany(ticket_sql, tickets)
                    cursor.executemany(clock_sql, clocks)
                else:
                    copy_rows(cursor, Ticket._meta.db_table, gen.ticket_columns, tickets, qn)
                    copy_rows(cursor, Clock._meta.db_table, CLOCK_COLUMNS, clocks, qn)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Ticket]):
                cursor.execute(sql)
            # The thresholds have fired: the worker's sweep finds nothing to do meanwhile.
            cursor.execute(f"UPDATE {qn(Clock._meta.db_table)} SET next_check_at = NULL")
        self._settle()
        return time.perf_counter() - started

    def close_all_but(self, keep_open: int) -> float:
        """Close every open ticket but ``keep_open`` (most of them the newest), stopping their
        clocks as a verified fix does."""
        from django.db import transaction
        from django.utils import timezone

        from opsdesk.sla.models import Clock
        from opsdesk.tickets.choices import STILL_OPEN, Status
        from opsdesk.tickets.models import Ticket

        started = time.perf_counter()
        ids = list(Ticket.objects.filter(STILL_OPEN).order_by("id").values_list("id", flat=True))
        newest = round(keep_open * OPEN_AMONG_NEWEST)
        kept = set(ids[len(ids) - newest:])
        kept |= set(self.rng.sample(ids[:len(ids) - newest], keep_open - newest))
        closing = [i for i in ids if i not in kept]
        now = timezone.now()
        with transaction.atomic():
            for part in range(0, len(closing), 5000):
                chunk = closing[part:part + 5000]
                Ticket.objects.filter(pk__in=chunk).update(status=Status.CLOSED, closed_at=now)
                Clock.objects.filter(ticket_id__in=chunk).update(
                    warn_at=None, breach_at=None, next_check_at=None, running_since=None,
                    response_since=None, resolved_at=now)
        self._settle()
        return time.perf_counter() - started

    @staticmethod
    def _settle() -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                # What autovacuum does after a load this size: statistics, and the visibility
                # map that lets a count read an index alone.
                cursor.execute("VACUUM ANALYZE")


# --- measuring ------------------------------------------------------------------------------


def open_states() -> list[str]:
    from opsdesk.tickets.choices import OPEN_STATUSES

    return [s.value for s in OPEN_STATUSES]


def api_queues(engineer_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(queue, who, parameters) of each API queue."""
    every_open = {"status": open_states()}
    return [
        ("all open", "duty", every_open),
        ("unassigned", "duty", {"status": ["new"]}),
        ("mine", "engineer", {**every_open, "assignee": str(engineer_id)}),
        ("breached", "duty", {"sla": "breached"}),
        ("at risk", "duty", {"sla": "at_risk"}),
    ]


def page_queues() -> list[tuple[str, str, str]]:
    """(queue, who, path) of each workspace page."""
    every_open = "&".join(f"status={s}" for s in open_states())
    return [
        ("all open", "duty", f"/tickets/?queue=all&{every_open}"),
        ("unassigned", "duty", "/tickets/?queue=unassigned"),
        ("mine", "engineer", "/tickets/?queue=mine"),
        ("breached", "duty", "/tickets/?queue=breached"),
        ("at risk", "duty", "/tickets/?queue=at_risk"),
    ]


def time_api(client: Client, params: dict[str, Any], requests: int, *,
             follow: bool) -> tuple[Timings, float]:
    """The first page ``requests`` times, or (``follow``) ``requests`` pages one after the
    other (back to the first at the end of the queue); (timings, rows per page)."""
    for _ in range(WARMUP):
        client.json("GET", "/api/v1/tickets", params=params)
    latencies, rows, cursor = [], 0, None
    began = time.perf_counter()
    for _ in range(requests):
        query = {**params, "limit": "50", **({"cursor": cursor} if cursor else {})}
        page, elapsed = client.json("GET", "/api/v1/tickets", params=query)
        latencies.append(elapsed)
        rows += len(page["items"])
        if follow:
            cursor = page["next_cursor"]
    return Timings(latencies, time.perf_counter() - began), rows / requests


def time_page(browser: Any, path: str, requests: int) -> Timings:
    for _ in range(WARMUP):
        browser.page(path)
    latencies = []
    began = time.perf_counter()
    for _ in range(requests):
        latencies.append(browser.page(path)[1])
    return Timings(latencies, time.perf_counter() - began)


def measure(case: Case, server: Server, people: Any, engineer: Any, requests: int,
            cpu: CpuMonitor) -> list[Figure]:
    from bench import data
    from bench.pages import Browser

    tokens = {"duty": data.token_for(people.duty), "engineer": data.token_for(engineer)}
    usernames = {"duty": people.duty.username, "engineer": engineer.username}
    figures = []
    for queue, who, params in api_queues(engineer.pk):
        client = Client(server.port, tokens[who])
        for follow in (False, True):
            with cpu.measure() as usage:
                timings, rows = time_api(client, params, requests, follow=follow)
            where = "API, next pages" if follow else "API, first page"
            figures.append(Figure(case, queue, where, timings, rows, usage.other))
        client.close()
    browsers: dict[str, Browser] = {}
    for queue, who, path in page_queues():
        if who not in browsers:
            browsers[who] = Browser(server.port)
            browsers[who].sign_in(usernames[who])
        with cpu.measure() as usage:
            timings = time_page(browsers[who], path, requests)
        figures.append(Figure(case, queue, "workspace page", timings, 50, usage.other))
    return figures


def wait_for_worker(server: Server, timeout: float = 120.0) -> None:
    """Until the worker's start-up jobs (the SLA sweep, archiving, sweeps of orphans) are done:
    measured while they run, the first queue would be timed against them."""
    import os

    worker = server.worker
    assert worker is not None
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu_seconds() -> float:
        with open(f"/proc/{worker.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds()
        time.sleep(2.0)
        if cpu_seconds() - before < 2.0 * SETTLED_CPU:
            return
    log(f"  the worker was still busy after {timeout:.0f} s")


def busiest_engineer() -> Any:
    from django.db.models import Count

    from opsdesk.accounts.models import User
    from opsdesk.tickets.choices import STILL_OPEN
    from opsdesk.tickets.models import Ticket

    top = (Ticket.objects.filter(STILL_OPEN, assignee__isnull=False).values("assignee")
           .annotate(n=Count("id")).order_by("-n").first())
    assert top is not None
    return User.objects.get(pk=top["assignee"])


# --- output ---------------------------------------------------------------------------------


HEADER = ["case", "queue", "where", "rows/page", "p50 ms", "p95 ms", "growth", "others' CPU",
          "target"]


def rows(results: Results) -> list[list[str]]:
    first = {(f.queue, f.where): f.p95 for f in results.figures if f.case == CASES[0]}
    out = []
    for f in results.figures:
        growth = f.p95 / first[(f.queue, f.where)] if first.get((f.queue, f.where)) else 0.0
        out.append([f.case.label, f.queue, f.where, f"{f.rows:.0f}",
                    f"{f.timings.percentile(50):.1f}", f"{f.p95:.1f}", f"{growth:.2f}×",
                    "?" if f.other_cpu is None else f"{f.other_cpu * 100:.0f}%",
                    f"{'✓' if f.met else '✗'} p95 ≤ {TARGET_MS:.0f} ms"])
    return out


def markdown(results: Results) -> str:
    from bench import report

    loads = ", ".join(f"{name} {s:.0f} s" for name, s in results.load_seconds.items())
    missed = results.missed
    return "\n".join([
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC%z')} with `{results.command}`.", "",
        f"- Machine: {results.machine}", f"- Software: {results.software}",
        f"- Loads: {loads}", "",
        report.markdown_table(HEADER, rows(results)), "",
        ("**Targets missed:** " + "; ".join(f"{f.case.label} {f.queue} ({f.where}): p95 "
                                             f"{f.p95:.0f} ms" for f in missed))
        if missed else "All targets met.",
    ])


# --- the run --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.queues", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        help="run against a database 'opsdesk_queues' created (and dropped) on "
                             "this server, e.g. postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=100,
                        help="requests per queue and kind of page (default 100)")
    parser.add_argument("--cases", type=int, default=len(CASES),
                        help=f"how many of the {len(CASES)} cases to run (default all)")
    parser.add_argument("--no-write", action="store_true", help="do not update README.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    env = QueuesEnvironment(postgres_url=args.postgres)
    with session(env) as servers:
        server = Server(env=env.env, data_dir=env.data_dir, workers=2, with_worker=True)
        servers.append(server)
        results = run(args, env, server)
    from bench import report

    print("\n" + report.text_table(HEADER, rows(results)))
    print("\nAll targets met." if not results.missed else
          f"\n{len(results.missed)} figures miss p95 ≤ {TARGET_MS:.0f} ms.")
    if not args.no_write:
        report.replace_block(f"queues:{results.backend}",
                             f"### Queues, last results: {results.backend}", markdown(results))
    sys.exit(1 if results.missed else 0)


def run(args: argparse.Namespace, env: QueuesEnvironment, server: Server) -> Results:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from bench import data, report
    from bench.pages import PASSWORD

    cpu = CpuMonitor(env.helper_pids)
    log(f"migrating a fresh {env.backend} database")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the pages' own files
    people = data.create_people()
    for person in (people.duty, *people.support, *people.owners):
        person.set_password(PASSWORD)
        person.save(update_fields=["password"])
    results = Results(backend=env.backend, command=command_line("bench.queues", args.argv),
                      machine=report.machine(),
                      software=report.software(data.database_description()))
    loader = Loader(people, timezone.now())
    have = 0
    for case in CASES[:args.cases]:
        if case.tickets == have:
            log(f"closing all but {case.open:,} open tickets")
            results.load_seconds[f"closing to {case.open:,}"] = loader.close_all_but(case.open)
        else:
            adding = case.tickets - have
            opening = case.open - (0 if have == 0 else CASES[CASES.index(case) - 1].open)
            log(f"adding {adding:,} tickets, {opening:,} of them open")
            results.load_seconds[f"to {case.tickets:,}"] = loader.add(adding, opening)
            have = case.tickets
        engineer = busiest_engineer()
        connections.close_all()
        log(f"{case.label}: opsdesk serve (2 web processes) and opsdesk worker")
        server.start()
        assert server.process is not None
        cpu.pgid = server.process.pid
        wait_for_worker(server)
        results.figures += measure(case, server, people, engineer, args.requests, cpu)
        server.stop()
        cpu.pgid = None
        for f in results.figures[-15:]:
            log(f"  {f.queue:10} {f.where:16} p95 {f.p95:6.1f} ms")
    return results


if __name__ == "__main__":
    main()
