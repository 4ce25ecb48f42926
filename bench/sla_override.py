"""``python -m bench.sla_override [--postgres URL] [--count N]``: one calendar override applied
to a desk with 100,000 open tickets.

1. A fresh data folder and database (SQLite in WAL mode, or ``--postgres URL``: a database
   ``opsdesk_sla_override`` created and dropped on that server), migrated, with the harness's
   people and modules (``bench.data``).
2. ``--count`` (default 100,000) OPEN tickets with their SLA clocks, loaded as
   ``bench.sla_scale`` loads them (its distributions of priorities, sources, states: running,
   paused while waiting, stopped awaiting verification; breached, at risk, on track), with
   the seeded policies (urgent around the clock; high, medium and low in business days of the
   09:00–18:00 calendar).
3. The loader writes targets as business time; ``sla.services.apply_policy_change`` puts
   every clock under its policy's targets in business days, as a policy edit would (timed:
   what a policy edit costs at this size).
4. The admin's confirmation step: the dry run of an extra holiday on the calendar (the first
   working day at least three days ahead, so that nearly every open deadline runs past it:
   the worst case; a date next year touches only the clocks that count that far), made and
   rolled back (timed).
5. The override applied: ``sla.services.set_override`` in one transaction — every open clock
   on the calendar recomputed, one timeline event per ticket whose deadline moved, a timer
   for each next threshold that moved earlier (timed). Target: ≤ 20 s at 100,000 open
   tickets (seconds, not the minutes of one transaction per ticket).
6. Checks: as many tickets moved as the dry run said; as many timeline events; a sample of
   200 clocks recomputed one by one agrees with what the bulk recomputation wrote.

Prints a table; exit status 1 when the target is missed or a check fails. The data folder (and
the PostgreSQL database) are removed at the end, also on Ctrl+C or an error.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.cpu import CpuMonitor
from bench.environment import command_line, session
from bench.sla_scale import BUSY, ScaleEnvironment, load, log

OVERRIDE_TARGET_SECONDS = 20.0
SAMPLE = 200  # clocks recomputed one by one to check the bulk recomputation


class OverrideEnvironment(ScaleEnvironment):
    database_name = "opsdesk_sla_override"


@dataclass
class Figure:
    name: str
    detail: str
    seconds: float
    moved: int
    target: str = ""
    met: bool | None = None
    other_cpu: float | None = None


@dataclass
class Results:
    backend: str
    count: int
    command: str
    machine: str
    software: str
    load_seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _timed(cpu: CpuMonitor, change: Callable[[], int]) -> tuple[float, int, float | None]:
    with cpu.measure() as share:
        began = time.perf_counter()
        moved = change()
        seconds = time.perf_counter() - began
    return seconds, moved, share.other


def holiday_ahead(calendar: Any, today: date) -> date:
    """The first working day of ``calendar`` at least three days after ``today``: most open
    tickets' deadlines run past it."""
    from opsdesk.sla.selectors import get_work_calendar

    work = get_work_calendar(calendar=calendar)
    day = today + timedelta(days=3)
    while not work.is_working_day(day):
        day += timedelta(days=1)
    return day


def check_sample(ticket_ids: list[int]) -> list[str]:
    """Each sampled clock, recomputed alone from what is stored, agrees with itself."""
    from opsdesk.sla import clocks, services
    from opsdesk.sla.models import Clock, Notice

    problems = []
    for clock in Clock.objects.filter(ticket_id__in=ticket_ids).select_related("calendar"):
        stored = (clock.response_due_at, clock.resolution_due_at, clock.warn_at,
                  clock.breach_at, clock.next_check_at)
        fired = set(Notice.objects.filter(ticket_id=clock.ticket_id)
                    .values_list("clock", "threshold"))
        clocks.refresh_due_times(clock, services.calendar_of(clock), fired)
        again = (clock.response_due_at, clock.resolution_due_at, clock.warn_at,
                 clock.breach_at, clock.next_check_at)
        if again != stored:
            problems.append(f"ticket {clock.ticket_id}: stored {stored}, recomputed {again}")
    return problems


def run(args: argparse.Namespace, env: ScaleEnvironment) -> Results:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from bench import data, report
    from opsdesk.sla import services
    from opsdesk.sla.models import BusinessCalendar, Clock
    from opsdesk.tickets.models import TimelineEvent

    cpu = CpuMonitor(env.helper_pids)
    results = Results(backend=env.backend, count=args.count,
                      command=command_line("bench.sla_override", args.argv),
                      machine=report.machine(),
                      software=report.software(data.database_description()))
    log(f"migrating a fresh {env.backend} database")
    call_command("migrate", interactive=False, verbosity=0)
    people = data.create_people()
    now = timezone.now()
    log(f"bulk loading {args.count:,} open tickets with their SLA clocks")
    results.load_seconds, _mix = load(people, args.count, now)
    connections.close_all()

    log("every clock put under its policy's targets (a policy edit)")
    seconds, moved, other = _timed(cpu, services.apply_policy_change)
    results.figures.append(Figure("policy change", "services.apply_policy_change: every open "
                                  "ticket matched again, targets in business days",
                                  seconds, moved, other_cpu=other))

    calendar = BusinessCalendar.objects.get()
    day = holiday_ahead(calendar, timezone.localdate(now))
    on_calendar = Clock.objects.filter(calendar=calendar).count()
    detail = f"{day:%Y-%m-%d} made a holiday; {on_calendar:,} open clocks on the calendar"

    def override() -> int:
        return services.set_override(calendar=calendar, day=day, kind="holiday",
                                     note="bench.sla_override")

    log(f"the admin's dry run: {detail}")
    seconds, previewed, other = _timed(cpu, lambda: services.preview(override))
    results.figures.append(Figure("override, dry run", "services.preview (rolled back): the "
                                  "admin's confirmation step", seconds, previewed,
                                  other_cpu=other))
    events_before = TimelineEvent.objects.filter(data__event="recomputed").count()
    log("the override applied")
    seconds, moved, other = _timed(cpu, override)
    results.figures.append(Figure(
        "override applied", f"services.set_override, one transaction: {detail}", seconds,
        moved, target=f"≤ {OVERRIDE_TARGET_SECONDS:.0f} s",
        met=seconds <= OVERRIDE_TARGET_SECONDS, other_cpu=other))

    events = TimelineEvent.objects.filter(data__event="recomputed").count() - events_before
    if moved != previewed:
        results.problems.append(f"the dry run said {previewed:,}, the override moved {moved:,}")
    if events != moved:
        results.problems.append(f"{moved:,} moved but {events:,} timeline events written")
    ids = list(Clock.objects.filter(calendar=calendar).values_list("ticket_id", flat=True))
    results.problems += check_sample(random.Random(5).sample(ids, min(SAMPLE, len(ids))))
    return results


HEADER = ["measure", "what", "seconds", "tickets moved", "per 1,000", "others' CPU", "target"]


def rows(results: Results) -> list[list[str]]:
    return [[
        f.name, f.detail, f"{f.seconds:.2f}", f"{f.moved:,}",
        f"{f.seconds * 1000 / f.moved:.3f} s" if f.moved else "",
        "?" if f.other_cpu is None else f"{f.other_cpu * 100:.0f}%",
        "" if f.met is None else f"{'✓' if f.met else '✗ MISSED'} {f.target}",
    ] for f in results.figures]


def console(results: Results) -> str:
    from bench import report

    busiest = max((f.other_cpu or 0.0 for f in results.figures), default=0.0)
    parts = [
        f"opsdesk SLA override — {results.backend}, {results.count:,} open tickets, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine:  {results.machine}", f"software: {results.software}",
        f"command:  {results.command}",
        f"bulk load: {results.load_seconds:.0f} s", "",
        report.text_table(HEADER, rows(results)), "",
    ]
    if busiest > BUSY:
        parts.append(f"Warning: other processes used up to {busiest * 100:.0f}% of the machine; "
                     "those figures are worse than this machine can do.")
    parts += ([f"Check failed: {p}" for p in results.problems[:20]]
              or ["Checks passed: the dry run's count, the events, a sample recomputed alone."])
    missed = [f for f in results.figures if f.met is False]
    parts.append("Target missed." if missed else "Target met.")
    return "\n".join(parts)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_override", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000,
                        help="open tickets to generate (default 100,000)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run against a database 'opsdesk_sla_override' created (and "
                             "dropped) on this server")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    env = OverrideEnvironment(postgres_url=args.postgres)
    with session(env):
        results = run(args, env)
    print("\n" + console(results))
    failed = results.problems or any(f.met is False for f in results.figures)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
