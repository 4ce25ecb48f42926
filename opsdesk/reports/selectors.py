"""The dashboards' figures, each from one or two aggregate queries over index ranges, so that
they stay fast at hundreds of thousands of tickets on SQLite and PostgreSQL.

Rows are counted per day in the period's time zone (the reader's; see ``days``); durations are
the business time the SLA clocks recorded; targets are those of the SLA policy a ticket of that
priority (and module, when filtered) falls under.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module
from opsdesk.reports.days import Seconds, StepsSince, day_of, day_step
from opsdesk.reports.durations import Summary, summarise
from opsdesk.reports.periods import Period
from opsdesk.sla.models import Clock
from opsdesk.sla.selectors import policy_for
from opsdesk.tickets.choices import OPEN_STATUSES, Priority, SourceKind
from opsdesk.tickets.models import Ticket

# Upper bounds of the backlog's age groups; the last group is everything older.
AGE_LIMITS: tuple[tuple[timedelta, Promise], ...] = (
    (timedelta(days=1), _("under 1 day")),
    (timedelta(days=3), _("1–3 days")),
    (timedelta(days=7), _("3–7 days")),
    (timedelta(days=30), _("7–30 days")),
)
OLDEST_AGE = _("over 30 days")


@dataclass(frozen=True)
class Series:
    """One line or stack of a chart: a code for machines, a label for people, a value per
    category (day, module, age group, priority)."""

    code: str
    label: str
    values: list[int]


@dataclass(frozen=True)
class ModuleRef:
    id: int | None  # None: tickets not yet classified to a module
    name: str


@dataclass(frozen=True)
class OpenTickets:
    modules: list[ModuleRef]
    series: list[Series]  # one per priority, a count per module
    total: int


@dataclass(frozen=True)
class Inflow:
    days: list[date]
    series: list[Series]  # one per source, a count per day
    total: int


@dataclass(frozen=True)
class BacklogAge:
    groups: list[str]
    series: list[Series]  # one per priority, a count per age group
    total: int


@dataclass(frozen=True)
class PriorityTimes:
    priority: str
    label: str
    count: int
    median_minutes: float | None
    p90_minutes: float | None
    target_minutes: float | None


@dataclass(frozen=True)
class Times:
    response: list[PriorityTimes]
    resolution: list[PriorityTimes]


@dataclass(frozen=True)
class DailyCompliance:
    met: list[int]
    total: list[int]
    percent: list[float | None]  # None on a day with nothing to measure
    overall_percent: float | None


@dataclass(frozen=True)
class Compliance:
    days: list[date]
    response: DailyCompliance
    resolution: DailyCompliance
    breached_now: int  # running clocks already past due


def _tickets(module_id: int | None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    return tickets if module_id is None else tickets.filter(module_id=module_id)


def _clocks(module_id: int | None) -> QuerySet[Clock]:
    clocks = Clock.objects.all()
    return clocks if module_id is None else clocks.filter(ticket__module_id=module_id)


def _by_priority(counts: dict[tuple[int, object], int], keys: list[object]) -> list[Series]:
    return [Series(p.code, str(p.label), [counts.get((p.value, k), 0) for k in keys])
            for p in Priority]


def open_tickets(*, module_id: int | None = None) -> OpenTickets:
    """Tickets not yet closed, by module (most first) and priority."""
    rows = (_tickets(module_id).filter(status__in=OPEN_STATUSES)
            .values_list("priority", "module_id").annotate(n=Count("pk")).order_by())
    counts = {(priority, module): n for priority, module, n in rows}
    per_module: dict[int | None, int] = defaultdict(int)
    for (_priority, module), n in counts.items():
        per_module[module] += n
    names: dict[int | None, str] = {None: str(_("No module yet"))}
    names.update(Module.objects.filter(pk__in=[m for m in per_module if m is not None])
                 .values_list("pk", "name"))
    order = sorted(per_module, key=lambda m: (-per_module[m], m is None, names[m]))
    modules = [ModuleRef(m, names[m]) for m in order]
    return OpenTickets(modules, _by_priority(counts, list(order)), sum(per_module.values()))


def inflow(*, period: Period, module_id: int | None = None) -> Inflow:
    """Tickets submitted per day of the period, by source."""
    step = day_step(period)
    rows = (_tickets(module_id)
            .filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
            .annotate(steps=StepsSince("submitted_at", origin=period.start, step=step))
            .values_list("source_kind", "steps").annotate(n=Count("pk")).order_by())
    counts: dict[str, list[int]] = {s.value: [0] * period.days for s in SourceKind}
    for source, steps, n in rows:
        counts[source][day_of(steps, step, period)] += n
    series = [Series(s.value, str(s.label), counts[s.value]) for s in SourceKind]
    return Inflow(period.dates, series, sum(sum(values) for values in counts.values()))


def backlog_age(*, module_id: int | None = None, now: datetime | None = None) -> BacklogAge:
    """Tickets not yet closed by how long ago they were submitted, and by priority."""
    now = now or timezone.now()
    group = Case(
        *[When(submitted_at__gt=now - limit, then=Value(i))
          for i, (limit, _label) in enumerate(AGE_LIMITS)],
        default=Value(len(AGE_LIMITS)),
    )
    rows = (_tickets(module_id).filter(status__in=OPEN_STATUSES).annotate(group=group)
            .values_list("priority", "group").annotate(n=Count("pk")).order_by())
    counts = {(priority, g): n for priority, g, n in rows}
    groups = [str(label) for _limit, label in AGE_LIMITS] + [str(OLDEST_AGE)]
    return BacklogAge(groups, _by_priority(counts, list(range(len(groups)))),
                      sum(counts.values()))


def times(*, period: Period, module_id: int | None = None) -> Times:
    """Median and 90th-percentile business time to respond and to resolve, per priority, for
    the clocks that stopped in the period, beside the policy's targets."""
    responses = summarise(
        _clocks(module_id).filter(responded_at__gte=period.start, responded_at__lt=period.end,
                                  response_time__isnull=False),
        group=F("ticket__priority"), seconds=Seconds("response_time"))
    resolutions = summarise(
        _clocks(module_id).filter(resolved_at__gte=period.start, resolved_at__lt=period.end,
                                  resolution_time__isnull=False),
        group=F("ticket__priority"), seconds=Seconds("resolution_time"))
    targets = policy_targets(module_id=module_id)
    return Times(
        response=_percentiles(responses, {p: t[0] for p, t in targets.items()}),
        resolution=_percentiles(resolutions, {p: t[1] for p, t in targets.items()}),
    )


def policy_targets(*, module_id: int | None = None) -> dict[int, tuple[timedelta, timedelta]]:
    """Per priority, the (response, resolution) targets of the policy that applies to a ticket
    of that priority (in that module) from a source without a policy of its own."""
    targets = {}
    for priority in Priority:
        policy = policy_for(Ticket(priority=priority, source_kind="", module_id=module_id))
        if policy is not None:
            targets[priority.value] = (policy.response_target, policy.resolution_target)
    return targets


def _percentiles(summaries: dict[Any, Summary],
                 targets: dict[int, timedelta]) -> list[PriorityTimes]:
    out = []
    for p in Priority:
        summary = summaries.get(p.value)
        target = targets.get(p.value)
        out.append(PriorityTimes(
            p.code, str(p.label), summary.count if summary else 0,
            round(summary.median_seconds / 60, 1) if summary else None,
            round(summary.p90_seconds / 60, 1) if summary else None,
            target.total_seconds() / 60 if target else None,
        ))
    return out


def compliance(*, period: Period, module_id: int | None = None,
               now: datetime | None = None) -> Compliance:
    """Per day of the period, how many responses and resolutions were within their targets.

    A response is on time when it came before the response was due; a resolution when the
    business time it took (pauses excluded) is within the resolution target, as the SLA clock
    judges them.
    """
    now = now or timezone.now()
    days = period.dates
    return Compliance(
        days,
        _daily(_clocks(module_id), "responded_at", Q(responded_at__lte=F("response_due_at")),
               period),
        _daily(_clocks(module_id), "resolved_at",
               Q(resolution_time__lte=F("resolution_target")), period),
        _clocks(module_id).filter(breach_at__lte=now).count(),
    )


def _daily(clocks: QuerySet[Clock], stopped: str, on_time: Q, period: Period) -> DailyCompliance:
    step = day_step(period)
    rows = (clocks.filter(**{f"{stopped}__gte": period.start, f"{stopped}__lt": period.end})
            .annotate(steps=StepsSince(stopped, origin=period.start, step=step))
            .values_list("steps").annotate(total=Count("pk"), met=Count("pk", filter=on_time))
            .order_by())
    met, total = [0] * period.days, [0] * period.days
    for steps, day_total, day_met in rows:
        day = day_of(steps, step, period)
        met[day] += day_met
        total[day] += day_total
    return DailyCompliance(met, total,
                           [percent_of(m, t) for m, t in zip(met, total, strict=True)],
                           percent_of(sum(met), sum(total)))


def percent_of(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
