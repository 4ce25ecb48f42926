"""``python -m bench.sla_scale [--postgres URL] [--count N]``: SLA queues at a million open tickets.

1. A fresh data folder and database (SQLite in WAL mode, or ``--postgres URL``: a database
   ``opsdesk_sla_scale`` created and dropped on that server, apart from the main benchmark's
   ``opsdesk_bench``), migrated, with the harness's people, modules and an API token for the
   duty engineer (``bench.data``).
2. ``--count`` (default 1,000,000) OPEN tickets, each with its ``sla.Clock`` row, inserted in
   large raw batches (``executemany`` on SQLite with ``synchronous=OFF`` for the load only,
   ``COPY`` on PostgreSQL, then ``VACUUM ANALYZE`` as autovacuum would have done). Tickets carry
   the harness's distributions (priority from the impact × urgency matrix, sources, modules,
   Zipf-like submitters and engineers, owners on urgent/high work); ids rise with submission
   time. Each clock follows the seeded per-priority policy (15 min / 2 h response; 4 h, 1, 3,
   10 business days resolution; warning at 75%), in the state its ticket's status implies:
   new and assigned tickets run both clocks, analysing to in-progress ones the resolution clock
   (15% after an earlier pause), waiting ones are paused, those awaiting verification have
   stopped. Of the running clocks 4% are breached (overdue by minutes to weeks), 6% at risk and
   the rest on track. Due times are drawn as wall-clock offsets from now (the business-calendar
   arithmetic, which only moves them around nights and holidays, is measured in step 5). As
   after a 30-minute worker outage, every threshold older than that has fired and the newer
   ones are due, which ``next_check_at`` says.
3. In this process, the sweep's reads as ``opsdesk.sla`` runs them, repeated: the due clocks
   (``services.sweep``'s batch of 1,000), every breached ticket id
   (``selectors.breached_ticket_ids`` without a limit) and their count. Target ≤ 200 ms.
4. ``opsdesk serve`` (Granian, 2 workers) and one keep-alive client as the duty engineer (who
   sees all): ``GET /api/v1/tickets?sla=breached`` (first page, and 300 pages following
   ``next_cursor``), and the same for ``sla=at_risk``; an SLA queue's default order is by due
   time, most overdue first. Target for ``breached``: p95 ≤ 30 ms.
5. Deadline computations per second across a year of calendars (``bench.sla_calendar``).
   Target ≥ 50,000/s.

Prints a table with the targets; exit status 1 when one is missed. The server is stopped and
the data folder (and the PostgreSQL database) removed at the end, also on Ctrl+C or an error.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.client import Timings
from bench.cpu import CpuMonitor
from bench.environment import Environment, command_line, session
from bench.server import Server

BUSY = 0.10  # others using more than this share of the machine disturb the figures
SWEEP_TARGET_MS = 200.0  # the sweep's find step at 1,000,000 open tickets
LIST_P95_TARGET_MS = 30.0  # GET /api/v1/tickets?sla=breached
DEADLINES_TARGET = 50_000.0  # deadline computations per second

# Of the running clocks: breached, at risk, on track.
BREACHED_SHARE = 0.04
AT_RISK_SHARE = 0.06
PAUSED_BEFORE_SHARE = 0.15  # running resolution clocks that were paused once already
WORKER_OUTAGE = timedelta(minutes=30)  # thresholds newer than this have not fired yet
SWEEP_LIMIT = 1000  # services.sweep's default batch
BATCH = 50_000  # rows per insert transaction
TICKETS = "/api/v1/tickets"
WARMUP = 10  # list requests before the timed ones


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class ScaleEnvironment(Environment):
    """``bench.environment.Environment`` with a PostgreSQL database of its own: this benchmark
    may run while the main one uses (and drops) ``opsdesk_bench`` on the same server."""

    database_name = "opsdesk_sla_scale"

    def helper_pids(self) -> set[int]:
        if not self.postgres_url:
            return set()
        with self._admin_connection() as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                [self.database_name]).fetchall()
        return {int(pid) for (pid,) in rows}

    def _create_postgres_database(self) -> str:
        assert self.postgres_url
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database_name}"')
        return urlunsplit(urlsplit(self.postgres_url)._replace(path=f"/{self.database_name}"))

    def _drop_postgres_database(self) -> None:
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')


# --- generation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    id: int
    calendar_id: int | None
    warning: float
    response: float  # seconds
    resolution: float  # seconds


@dataclass
class Mix:
    """What was generated, to check the database against and to print."""

    breached: int = 0
    at_risk: int = 0
    on_track: int = 0
    paused: int = 0
    stopped: int = 0
    due: int = 0


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


class Generator:
    """Open tickets and their clocks, as rows ready for a raw insert (in column order)."""

    def __init__(self, people: Any, policies: dict[int, Policy], now: datetime,
                 vendor: str, seed: int = 11) -> None:
        from bench import data
        from opsdesk.accounts.models import ProblemType
        from opsdesk.tickets.choices import Impact, Status, Urgency
        from opsdesk.tickets.models import Ticket
        from opsdesk.tickets.priority import DEFAULT_MATRIX

        self.p = people
        self.policies = policies
        self.now = now.timestamp()
        self.rng = random.Random(seed)
        factory = data.TicketFactory(people, seed=seed)  # its cumulative weights
        self.submitter_cum = factory.submitter_cum
        self.module_cum = factory.module_cum
        self.support_cum = factory.support_cum
        self.open = [str(s) for s in data.OPEN]
        self.open_cum = list(_accumulate(data.OPEN_WEIGHTS))
        self.impacts = [str(i) for i in Impact.values]
        self.urgencies = [str(u) for u in Urgency.values]
        self.impact_cum = list(_accumulate([3, 20, 55, 22]))
        self.urgency_cum = list(_accumulate([8, 25, 47, 20]))
        self.matrix = {(str(i), str(u)): int(p) for i, row in DEFAULT_MATRIX.items()
                       for u, p in row.items()}
        self.sources = ["user_report", "alert", "inspection", "cross_department", "emergency"]
        self.source_cum = list(_accumulate([60, 25, 7, 6, 2]))
        self.S = Status
        self.problem_types = [str(t) for t in ProblemType.values]
        self.mix = Mix()
        self.sqlite = vendor == "sqlite"
        # Ticket rows: a template of every column's default, filled in per ticket.
        fields = Ticket._meta.concrete_fields
        self.ticket_columns = [f.column for f in fields]
        self.ticket_template: list[Any] = [
            None if f.null or (f.has_default() and callable(f.default)) else f.get_default()
            for f in fields
        ]
        self.ti = {f.attname: i for i, f in enumerate(fields)}

    # Values as the database adapter wants them: SQLite stores naive UTC text and durations as
    # microseconds (what Django writes), PostgreSQL takes aware datetimes and timedeltas.
    def dt(self, ts: float | None) -> Any:
        if ts is None:
            return None
        moment = datetime.fromtimestamp(ts, UTC)
        return str(moment.replace(tzinfo=None)) if self.sqlite else moment

    def dur(self, seconds: float | None) -> Any:
        if seconds is None:
            return None
        micro = round(seconds * 1_000_000)
        return micro if self.sqlite else timedelta(microseconds=micro)

    def skeletons(self, count: int) -> list[tuple[float, str, str, int, str, tuple[Any, ...]]]:
        """(started, impact, urgency, priority, status, clock) for ``count`` tickets, oldest
        first: ids will rise with submission time, as in a real desk."""
        rng = self.rng
        out = []
        for _ in range(count):
            impact = rng.choices(self.impacts, cum_weights=self.impact_cum)[0]
            urgency = rng.choices(self.urgencies, cum_weights=self.urgency_cum)[0]
            priority = self.matrix[(impact, urgency)]
            status = rng.choices(self.open, cum_weights=self.open_cum)[0]
            started, clock = self.draw_clock(rng, self.policies[priority], status)
            out.append((started, impact, urgency, priority, status, clock))
        out.sort(key=lambda s: s[0])
        return out

    def _elapsed(self, rng: random.Random, warning: float) -> tuple[str, float]:
        """A running clock's state and the fraction of its target already run."""
        draw = rng.random()
        if draw < BREACHED_SHARE:
            return "breached", 1 + _log_uniform(rng, 0.002, 20.0)
        if draw < BREACHED_SHARE + AT_RISK_SHARE:
            return "at_risk", rng.uniform(warning, 1.0)
        return "on_track", rng.uniform(0.0, warning)

    def draw_clock(self, rng: random.Random, policy: Policy,
                   status: str) -> tuple[float, tuple[Any, ...]]:
        """The clock's times as epoch seconds (None when unset):
        (started, response_due, responded, response_time, spent, running_since, paused_at,
        resolution_due, resolved, resolution_time, warn_at, breach_at, next_check_at)."""
        now, S = self.now, self.S
        R, T, w = policy.response, policy.resolution, policy.warning
        responded = response_time = running = paused = resolved = resolution_time = None
        spent = 0.0
        moments: list[tuple[float, float, float]] = []  # (warning, breach, severe) per clock
        if status in (S.NEW, S.ASSIGNED):
            state, fraction = self._elapsed(rng, w)
            started = running = now - fraction * R
            moments.append((started + w * R, started + R, started + 2 * R))
            moments.append((started + w * T, started + T, started + 2 * T))
        elif status == S.WAITING:
            state = "paused"
            paused = now - _log_uniform(rng, 300, 5 * 86400)
            spent = rng.uniform(0.0, 1.1) * T
            started = paused - spent
        elif status == S.AWAITING_VERIFICATION:
            state = "stopped"
            resolved = now - _log_uniform(rng, 600, 3 * 86400)
            spent = resolution_time = rng.uniform(0.2, 1.3) * T
            started = resolved - spent
        else:  # analysing to in progress: responded, the resolution clock running
            state, fraction = self._elapsed(rng, w)
            run = fraction * T
            if rng.random() < PAUSED_BEFORE_SHARE:
                spent = rng.uniform(0.0, run)
                running = now - (run - spent)
                started = running - _log_uniform(rng, 600, 3 * 86400) - spent
            else:
                started = running = now - run
            moments.append((running + max(w * T - spent, 0.0), running + max(T - spent, 0.0),
                            running + max(2 * T - spent, 0.0)))
        if responded is None and status not in (S.NEW, S.ASSIGNED):
            responded = min(started + rng.uniform(0.05, 1.3) * R, now - 1)
            response_time = responded - started
        warn_at = min((m[0] for m in moments), default=None)
        breach_at = min((m[1] for m in moments), default=None)
        resolution_due = moments[-1][1] if moments else None
        fired_before = now - WORKER_OUTAGE.total_seconds()
        pending = [at for m in moments for at in m if at > fired_before]
        next_check = min(pending, default=None)
        mix = self.mix
        setattr(mix, state, getattr(mix, state) + 1)
        mix.due += next_check is not None and next_check <= now
        return started, (started, started + R, responded, response_time, spent, running, paused,
                         resolution_due, resolved, resolution_time, warn_at, breach_at,
                         next_check)

    def clock_row(self, ticket_id: int, policy: Policy, c: tuple[Any, ...]) -> tuple[Any, ...]:
        dt, dur = self.dt, self.dur
        # Targets as business time (response_days, resolution_days empty): the clocks' due
        # times are drawn as wall-clock offsets anyway. The timer is set at the next check; the
        # horizon is left unknown.
        # The response clock runs from the start until the response, unless paused.
        response_since = dt(c[0]) if c[2] is None and c[6] is None else None
        return (ticket_id, policy.id, policy.calendar_id, policy.warning, dur(policy.response),
                dur(policy.resolution), None, None, dt(c[0]), dur(0.0), response_since,
                dt(c[1]), dt(c[2]), dur(c[3]),
                dur(c[4]), dt(c[5]), dt(c[6]), dt(c[7]), dt(c[8]), dur(c[9]), dt(c[10]),
                dt(c[11]), dt(c[12]), dt(c[12]), None)

    def ticket_row(self, ticket_id: int, skeleton: tuple[Any, ...]) -> list[Any]:
        """The ticket's columns, drawn as ``bench.data.TicketFactory`` draws them."""
        from bench import data

        rng, p, ti, S = self.rng, self.p, self.ti, self.S
        started, impact, urgency, priority, status, _clock = skeleton
        row = list(self.ticket_template)
        source = rng.choices(self.sources, cum_weights=self.source_cum)[0]
        module = rng.choices(p.modules, cum_weights=self.module_cum)[0]
        submitter = None
        if source in ("user_report", "emergency"):
            submitter = rng.choices(p.submitters, cum_weights=self.submitter_cum)[0]
            channel = rng.choices(("web", "email", "customer_service", "api"),
                                  cum_weights=(55, 80, 92, 100))[0]
            symptom = rng.choice(data.SYMPTOMS)
            title = f"{module.name}{symptom}"
            description = (f"{submitter.department}{submitter.display_name}反馈：{symptom}，"
                           f"影响{rng.choice(data.SCOPES)}。请协助排查。")
            name = str(submitter)
        elif source == "alert":
            rule, symptom = rng.choice(data.ALERT_RULES)
            host = f"10.0.{rng.randrange(10)}.{rng.randrange(2, 250)}"
            channel = rng.choice(("alertmanager", "zabbix"))
            title = f"[告警] {host} {symptom}"
            description = f"{rule} 在 {host} 上触发：{symptom}。"
            name = "Alertmanager" if channel == "alertmanager" else "Zabbix"
            row[ti["alert_host"]], row[ti["alert_rule"]] = host, rule
            row[ti["alert_level"]], row[ti["alert_symptom"]] = "critical", symptom
        elif source == "inspection":
            channel = "inspection"
            title = rng.choice(data.INSPECTIONS)
            description = f"{module.name}巡检发现的问题，详见巡检报告。"
            submitter, name = p.duty, str(p.duty)
        else:
            channel = "email"
            department = rng.choice(data.DEPARTMENTS)
            title = f"{department}需求：{module.name}{rng.choice(data.SYMPTOMS[-6:])}"
            description = f"来自{department}的跨部门需求，附件见邮件。"
            name = f"{department} {rng.choice(data.SURNAMES)}{rng.choice(data.GIVEN)}"
        assignee = None
        if status != S.NEW:
            assignee = (module.owner if priority <= 2
                        else rng.choices(p.support, cum_weights=self.support_cum)[0])
        classified = status not in (S.NEW, S.ASSIGNED, S.ANALYSING)
        at = self.dt(started)
        row[ti["id"]] = ticket_id
        row[ti["title"]], row[ti["description"]] = title[:200], description
        row[ti["submitter_id"]] = submitter.pk if submitter else None
        row[ti["submitter_name"]] = name
        row[ti["submitter_department"]] = submitter.department if submitter else ""
        row[ti["submitter_contact"]] = submitter.contact if submitter else ""
        row[ti["submitted_at"]] = row[ti["created_at"]] = row[ti["updated_at"]] = at
        row[ti["source_kind"]], row[ti["channel"]] = source, channel
        row[ti["impact"]], row[ti["urgency"]], row[ti["priority"]] = impact, urgency, priority
        row[ti["status"]] = status
        if status == S.WAITING:
            row[ti["status_before_waiting"]] = rng.choice(("analysing", "in_progress"))
        row[ti["assignee_id"]] = assignee.pk if assignee else None
        if classified or rng.random() < 0.5:
            row[ti["module_id"]] = module.pk
        if classified:
            row[ti["problem_type"]] = rng.choice(self.problem_types)
            row[ti["estimate_minutes"]] = rng.choice((30, 60, 120, 240, 480))
            row[ti["deadline_at"]] = self.dt(started + 3600 * rng.choice((4, 8, 24, 72)))
        row[ti["version"]] = 1 if status == S.NEW else rng.randrange(3, 10)
        return row


def _accumulate(weights: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- loading -----------------------------------------------------------------------------


def policies_by_priority() -> dict[int, Policy]:
    """The seeded SLA policy for each priority (the one for any source and module)."""
    from opsdesk.sla.models import SlaPolicy

    out = {}
    for policy in SlaPolicy.objects.filter(enabled=True, priority__isnull=False,
                                           source_kind="", module__isnull=True):
        out.setdefault(policy.priority, Policy(
            id=policy.pk, calendar_id=policy.calendar_id, warning=policy.warning_fraction,
            response=policy.response_target.total_seconds(),
            resolution=policy.resolution_target.total_seconds()))
    return out


CLOCK_COLUMNS = [
    "ticket_id", "policy_id", "calendar_id", "warning_fraction", "response_target",
    "resolution_target", "response_days", "resolution_days", "started_at", "response_spent",
    "response_since", "response_due_at",
    "responded_at", "response_time", "resolution_spent", "running_since", "paused_at",
    "resolution_due_at", "resolved_at", "resolution_time", "warn_at", "breach_at",
    "next_check_at", "timer_at", "horizon_at",
]


def load(people: Any, count: int, now: datetime) -> tuple[float, Mix]:
    """Insert ``count`` open tickets and their clocks; (seconds, what was generated)."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from opsdesk.sla.models import Clock
    from opsdesk.tickets.models import Ticket

    qn = connection.ops.quote_name
    assert sorted(CLOCK_COLUMNS) == sorted(f.column for f in Clock._meta.concrete_fields)
    started = time.perf_counter()
    gen = Generator(people, policies_by_priority(), now, connection.vendor)
    skeletons = gen.skeletons(count)
    log(f"  drew {count:,} tickets in {time.perf_counter() - started:.1f} s; inserting")
    first_id = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    ticket_sql = insert_sql(Ticket._meta.db_table, gen.ticket_columns, qn)
    clock_sql = insert_sql(Clock._meta.db_table, CLOCK_COLUMNS, qn)
    sqlite = connection.vendor == "sqlite"
    connection.ensure_connection()
    if sqlite:
        with connection.cursor() as cursor:
            # For the load only: no fsync per commit, and room for the indexes being built.
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
    try:
        for offset in range(0, count, BATCH):
            part = skeletons[offset:offset + BATCH]
            ids = range(first_id + offset, first_id + offset + len(part))
            tickets = [gen.ticket_row(i, s) for i, s in zip(ids, part, strict=True)]
            clocks = [gen.clock_row(i, gen.policies[s[3]], s[5])
                      for i, s in zip(ids, part, strict=True)]
            with transaction.atomic(), connection.cursor() as cursor:
                if sqlite:
                    cursor.executemany(ticket_sql, tickets)
                    cursor.executemany(clock_sql, clocks)
                else:
                    copy_rows(cursor, Ticket._meta.db_table, gen.ticket_columns, tickets, qn)
                    copy_rows(cursor, Clock._meta.db_table, CLOCK_COLUMNS, clocks, qn)
            done = offset + len(part)
            if done % (BATCH * 4) == 0 or done == count:
                log(f"  {done:,} tickets ({time.perf_counter() - started:.0f} s)")
    finally:
        if sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA cache_size=-64000")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Ticket]):
            cursor.execute(sql)
    seconds = time.perf_counter() - started
    if not sqlite:
        # What autovacuum would long since have done for a table this size: statistics for the
        # planner and a visibility map (so index-only scans stay in the index).
        log("  VACUUM ANALYZE")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return seconds, gen.mix


def insert_sql(table: str, columns: list[str], qn: Callable[[str], str]) -> str:
    """An INSERT of one row into ``columns`` of ``table``, for executemany (SQLite)."""
    return (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})")


def copy_rows(cursor: Any, table: str, columns: list[str], rows: list[Any],
              qn: Callable[[str], str]) -> None:
    """Writes ``rows`` into ``table`` with PostgreSQL's COPY, far faster than INSERTs."""
    sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    detail: str
    timings: Timings | None = None  # latencies, for p50/p95
    rate: float | None = None  # or a rate per second
    rows: float | None = None
    target: str = ""
    met: bool | None = None
    other_cpu: float | None = None
    server_ms: float | None = None  # the server's CPU time per request (and its backends')


@dataclass
class Results:
    backend: str
    count: int
    command: str
    machine: str
    software: str
    load_seconds: float = 0.0
    mix: Mix = field(default_factory=Mix)
    figures: list[Figure] = field(default_factory=list)

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if f.met is False]

    def disturbed(self) -> str | None:
        busiest = max((f.other_cpu for f in self.figures if f.other_cpu is not None), default=0)
        if busiest <= BUSY:
            return None
        return (f"Warning: other processes used up to {busiest * 100:.0f}% of the machine during "
                "some measurements (column \"others' CPU\"); those figures are worse than this "
                "machine can do. Run again on a quiet machine.")


def _time_queries(name: str, detail: str, run: Callable[[], int], repeat: int,
                  warmup: int = 3) -> Figure:
    for _ in range(warmup):
        run()
    latencies, rows = [], 0
    began = time.perf_counter()
    for _ in range(repeat):
        start = time.perf_counter()
        rows = run()
        latencies.append(time.perf_counter() - start)
    timings = Timings(latencies, time.perf_counter() - began)
    met = timings.percentile(95) <= SWEEP_TARGET_MS
    return Figure(name, detail, timings, rows=rows, target=f"p95 ≤ {SWEEP_TARGET_MS:.0f} ms",
                  met=met)


def measure_sweep(repeat: int, cpu: CpuMonitor) -> list[Figure]:
    """The sweep's reads, as opsdesk.sla runs them, in this process (its own connection)."""
    from django.db import connections
    from django.utils import timezone

    from opsdesk.sla import selectors
    from opsdesk.sla.models import Clock

    def due() -> int:
        # services.sweep's query, verbatim.
        now = timezone.now()
        return len(list(Clock.objects.filter(next_check_at__lte=now).order_by("next_check_at")
                        .values_list("ticket_id", flat=True)[:SWEEP_LIMIT]))

    def breached() -> int:
        return len(selectors.breached_ticket_ids(now=timezone.now()))

    def count() -> int:
        return Clock.objects.filter(breach_at__lte=timezone.now()).count()

    out = []
    for name, detail, run in (
        ("sweep: due clocks", f"services.sweep's batch (limit {SWEEP_LIMIT:,})", due),
        ("sweep: every breached ticket id", "selectors.breached_ticket_ids, no limit", breached),
        ("sweep: count of breached", "Clock.objects.filter(breach_at__lte=now).count()", count),
    ):
        log(f"  {name}")
        with cpu.measure() as share:
            figure = _time_queries(name, detail, run, repeat)
        figure.other_cpu = share.other
        out.append(figure)
    connections.close_all()
    return out


def _time_pages(client: Any, params: dict[str, str], count: int, *, follow: bool,
                warmup: int = 10) -> tuple[Timings, float, int]:
    """``count`` list requests: the first page again and again, or (``follow``) consecutive
    pages of 50 following ``next_cursor``, back to the first page at the end of the list.
    (timings, mean rows per page, times the list ended)."""
    for _ in range(warmup):
        client.json("GET", TICKETS, params=params)
    latencies, rows, ended = [], 0, 0
    cursor: str | None = None
    began = time.perf_counter()
    for _ in range(count):
        query = {**params, "limit": "50", **({"cursor": cursor} if cursor else {})}
        page, elapsed = client.json("GET", TICKETS, params=query)
        latencies.append(elapsed)
        rows += len(page["items"])
        if follow:
            cursor = page["next_cursor"]
            ended += cursor is None
    return Timings(latencies, time.perf_counter() - began), rows / count, ended


def measure_lists(port: int, token: str, requests: int, cpu: CpuMonitor) -> list[Figure]:
    from bench.client import Client

    client = Client(port, token)
    out = []
    for state in ("breached", "at_risk"):
        has_target = state == "breached"
        for follow in (False, True):
            what = f"{requests} pages of 50 following next_cursor" if follow else "first page"
            log(f"  sla={state}: {what}")
            with cpu.measure() as share:
                timings, rows, ended = _time_pages(client, {"sla": state}, requests,
                                                   follow=follow, warmup=WARMUP)
            if ended:
                what += f" (the list ended {ended}×: back to page 1)"
            p95 = timings.percentile(95)
            out.append(Figure(
                f"GET {TICKETS}?sla={state}" + (", next pages" if follow else ""), what,
                timings, rows=rows,
                target=f"p95 ≤ {LIST_P95_TARGET_MS:.0f} ms" if has_target else "",
                met=p95 <= LIST_P95_TARGET_MS if has_target else None, other_cpu=share.other,
                server_ms=None if share.server_seconds is None
                else share.server_seconds * 1000 / (requests + WARMUP)))
    client.close()
    return out


def measure_deadlines(cpu: CpuMonitor) -> Figure:
    from bench import sla_calendar

    log("  deadline computations (bench.sla_calendar)")
    with cpu.measure() as share:
        figures = sla_calendar.main([])
    rate = figures["deadlines_per_second"]
    return Figure("SLA deadline computations", "random starts 2025–2027, 4 calendars, warm "
                  f"(cold: {figures['deadlines_per_second_cold']:,.0f}/s)", rate=rate,
                  target=f"≥ {DEADLINES_TARGET:,.0f}/s", met=rate >= DEADLINES_TARGET,
                  other_cpu=share.other)


def check(mix: Mix, now: datetime) -> list[str]:
    """The database agrees with what was generated (at the load's ``now``)."""
    from opsdesk.sla.models import Clock
    from opsdesk.tickets.models import Ticket

    problems = []
    expected = {
        "open tickets": (Ticket.objects.exclude(status__in=["closed", "archived"]).count(),
                         mix.breached + mix.at_risk + mix.on_track + mix.paused + mix.stopped),
        "breached": (Clock.objects.filter(breach_at__lte=now).count(), mix.breached),
        "at risk": (Clock.objects.filter(warn_at__lte=now, breach_at__gt=now).count(),
                    mix.at_risk),
        "due": (Clock.objects.filter(next_check_at__lte=now).count(), mix.due),
    }
    for what, (found, wanted) in expected.items():
        if found != wanted:
            problems.append(f"{what}: {found:,} in the database, {wanted:,} generated")
    return problems


# --- the report --------------------------------------------------------------------------

HEADER = ["measure", "what", "runs", "rows", "p50 ms", "p95 ms", "rate", "server CPU ms",
          "others' CPU", "target"]


def rows(results: Results) -> list[list[str]]:
    out = []
    for f in results.figures:
        verdict = "" if f.met is None else f"{'✓' if f.met else '✗ MISSED'} {f.target}"
        t = f.timings
        out.append([
            f.name, f.detail, f"{t.count:,}" if t else "",
            "" if f.rows is None else f"{f.rows:,.0f}",
            f"{t.percentile(50):.1f}" if t else "", f"{t.percentile(95):.1f}" if t else "",
            f"{f.rate:,.0f}/s" if f.rate is not None else "",
            "" if f.server_ms is None else f"{f.server_ms:.2f}",
            "?" if f.other_cpu is None else f"{f.other_cpu * 100:.0f}%", verdict,
        ])
    return out


def summary(results: Results) -> list[str]:
    m, n = results.mix, results.count
    load = n / results.load_seconds if results.load_seconds else 0.0
    return [
        f"{n:,} open tickets: {m.breached:,} breached ({m.breached / n:.1%}), "
        f"{m.at_risk:,} at risk ({m.at_risk / n:.1%}), {m.on_track:,} on track, "
        f"{m.paused:,} paused (waiting), {m.stopped:,} stopped (awaiting verification); "
        f"{m.due:,} clocks due for the sweep (a 30-minute worker outage)",
        f"bulk load: {results.load_seconds:.0f} s ({load:,.0f} tickets + clocks/s)",
    ]


def console(results: Results) -> str:
    from bench import report

    parts = [
        f"opsdesk SLA at scale — {results.backend}, {results.count:,} open tickets, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine:  {results.machine}",
        f"software: {results.software}",
        f"command:  {results.command}",
        *summary(results), "",
        report.text_table(HEADER, rows(results)), "",
    ]
    if warning := results.disturbed():
        parts += [warning, ""]
    missed = results.missed
    parts += (["Targets missed:", *(f"  {f.name}: {f.target}" for f in missed)]
              if missed else ["All targets met."])
    return "\n".join(parts)


def markdown(results: Results) -> str:
    from bench import report

    return "\n".join([
        f"Measured {time.strftime('%Y-%m-%d')} with `{results.command}`.", "",
        f"- Machine: {results.machine}", f"- Software: {results.software}",
        *(f"- {line}" for line in summary(results)), "",
        report.markdown_table(HEADER, rows(results)),
        *(["", f"**{w}**"] if (w := results.disturbed()) else []),
    ])


# --- the run -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000,
                        help="open tickets to generate (default 1,000,000)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run against a database 'opsdesk_sla_scale' created (and dropped) on "
                             "this server, e.g. postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--repeat", type=int, default=30,
                        help="runs of each sweep query (default 30)")
    parser.add_argument("--requests", type=int, default=300,
                        help="requests per list measurement (default 300)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--markdown", action="store_true",
                        help="also print the results as Markdown, for bench/README.md")
    return parser.parse_args(argv)



def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    env = ScaleEnvironment(postgres_url=args.postgres)
    with session(env) as servers:
        server = Server(env=env.env, data_dir=env.data_dir, workers=args.workers)
        servers.append(server)
        results = run(args, env, server)
    print("\n" + console(results))
    if args.markdown:
        print("\n" + markdown(results))
    sys.exit(1 if results.missed else 0)


def run(args: argparse.Namespace, env: Environment, server: Server) -> Results:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from bench import data, report

    command = command_line("bench.sla_scale", args.argv)
    cpu = CpuMonitor(env.helper_pids)

    log(f"migrating a fresh {env.backend} database")
    call_command("migrate", interactive=False, verbosity=0)
    people = data.create_people()
    token = data.token_for(people.duty)
    results = Results(backend=env.backend, count=args.count, command=command,
                      machine=report.machine(),
                      software=report.software(data.database_description()))
    now = timezone.now()
    log(f"bulk loading {args.count:,} open tickets with their SLA clocks")
    results.load_seconds, results.mix = load(people, args.count, now)
    log(f"loaded in {results.load_seconds:.0f} s")
    if problems := check(results.mix, now):
        raise RuntimeError("the loaded data is not what was generated:\n  "
                           + "\n  ".join(problems))
    connections.close_all()

    log(f"the sweep's reads, {args.repeat} runs each")
    results.figures += measure_sweep(args.repeat, cpu)

    log(f"starting opsdesk serve ({args.workers} workers) on port {server.port}")
    server.start()
    assert server.process is not None
    cpu.pgid = server.process.pid
    log(f"the SLA queues over HTTP as the duty engineer, {args.requests} requests each")
    results.figures += measure_lists(server.port, token, args.requests, cpu)
    server.stop()
    cpu.pgid = None

    results.figures.append(measure_deadlines(cpu))
    return results


if __name__ == "__main__":
    main()
