"""Recurring problems, the basis of the head's review: the same module and problem type filed
again and again, and the same alert rule firing on the same host, in a period.

Groups are counted by one GROUP BY over the period's tickets; each listed group then shows its
newest tickets, read in one statement of small index-ordered parts (one per group), so the
cost does not grow with a group's size. The ticket indexes ticket_recurring and
ticket_alert_recurring serve both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from opsdesk.accounts.models import Module, ProblemType
from opsdesk.reports.periods import MonthPeriod
from opsdesk.reports.selectors import ModuleRef
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket

DEFAULT_MIN_TICKETS = 3
MIN_TICKETS_RANGE = (2, 1000)
GROUPS_SHOWN = 50  # the largest groups; the rest are counted
TICKETS_SHOWN = 10  # the newest of each group


@dataclass(frozen=True)
class ListedTicket:
    key: str
    title: str
    status: str
    status_label: str
    submitted_at: datetime
    assignee: str | None


@dataclass(frozen=True)
class RecurringProblem:
    module: ModuleRef
    problem_type: str
    problem_type_label: str
    count: int
    tickets: list[ListedTicket]  # the newest first


@dataclass(frozen=True)
class RecurringAlert:
    rule: str
    host: str
    count: int
    tickets: list[ListedTicket]


@dataclass(frozen=True)
class RecurringProblems:
    min_tickets: int
    groups: list[RecurringProblem]  # the most tickets first
    more_groups: int  # groups of at least min_tickets beyond those listed


@dataclass(frozen=True)
class RecurringAlerts:
    min_tickets: int
    groups: list[RecurringAlert]
    more_groups: int


def _submitted_in(period: MonthPeriod, module_id: int | None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
    return tickets if module_id is None else tickets.filter(module_id=module_id)


def recurring_problems(*, period: MonthPeriod, min_tickets: int = DEFAULT_MIN_TICKETS,
                       module_id: int | None = None) -> RecurringProblems:
    """(module, problem type) pairs with at least ``min_tickets`` tickets submitted in the
    period (classified tickets only), the most first."""
    tickets = _submitted_in(period, module_id)
    counted = list(
        tickets.filter(module__isnull=False, problem_type__gt="")
        .values_list("module_id", "problem_type").annotate(n=Count("pk"))
        .filter(n__gte=min_tickets).order_by("-n", "module_id", "problem_type"))
    shown = counted[:GROUPS_SHOWN]
    names = dict(Module.objects.filter(pk__in={m for m, _t, _n in shown})
                 .values_list("pk", "name"))
    listed = _newest(period, module_id, ("module_id", "problem_type"),
                     [(m, t) for m, t, _n in shown])
    types = dict(ProblemType.choices)
    groups = [RecurringProblem(ModuleRef(module, names[module]), kind, str(types[kind]), n,
                               listed[i])
              for i, (module, kind, n) in enumerate(shown)]
    return RecurringProblems(min_tickets, groups, len(counted) - len(shown))


def recurring_alerts(*, period: MonthPeriod, min_tickets: int = DEFAULT_MIN_TICKETS,
                     module_id: int | None = None) -> RecurringAlerts:
    """(alert rule, host) pairs with at least ``min_tickets`` tickets submitted in the period,
    the most first."""
    tickets = _submitted_in(period, module_id)
    counted = list(
        tickets.filter(alert_rule__gt="")
        .values_list("alert_rule", "alert_host").annotate(n=Count("pk"))
        .filter(n__gte=min_tickets).order_by("-n", "alert_rule", "alert_host"))
    shown = counted[:GROUPS_SHOWN]
    listed = _newest(period, module_id, ("alert_rule", "alert_host"),
                     [(r, h) for r, h, _n in shown])
    groups = [RecurringAlert(rule, host, n, listed[i])
              for i, (rule, host, n) in enumerate(shown)]
    return RecurringAlerts(min_tickets, groups, len(counted) - len(shown))


def _newest(period: MonthPeriod, module_id: int | None, columns: tuple[str, str],
            groups: list[tuple[Any, Any]]) -> list[list[ListedTicket]]:
    """The newest tickets of each group (its values of ``columns``), in the order of
    ``groups``: one statement of a small part per group, each an index range read newest first
    and cut after TICKETS_SHOWN (the ORM compiled fifty such parts in more time than the
    database took to run them)."""
    if not groups:
        return []
    quote, ops = connection.ops.quote_name, connection.ops
    table, first, second = (quote(name) for name in (Ticket._meta.db_table, *columns))
    submitted, key, module = quote("submitted_at"), quote("id"), quote("module_id")
    where = f"{first} = %s AND {second} = %s AND {submitted} >= %s AND {submitted} < %s"
    if columns[0] == "alert_rule":
        # Spelled out so that the partial index ticket_alert_recurring applies: SQLite does not
        # infer it from alert_rule = %s (without it each group read a year of tickets, 0.3 s).
        where += f" AND {first} > ''"
    if module_id is not None:
        where += f" AND {module} = %s"
    newest = (f"SELECT {key} FROM {table} WHERE {where} "
              f"ORDER BY {submitted} DESC, {key} DESC LIMIT {TICKETS_SHOWN}")
    bounds = [ops.adapt_datetimefield_value(moment) for moment in (period.start, period.end)]
    parts, params = [], []
    for i, values in enumerate(groups):
        parts.append(f"SELECT {i} AS report_group, newest.{key} FROM ({newest}) AS newest")
        params += [*values, *bounds, *([] if module_id is None else [module_id])]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        group_of = {pk: i for i, pk in cursor.fetchall()}
    rows = (Ticket.objects.filter(pk__in=list(group_of)).select_related("assignee")
            .only("title", "status", "submitted_at", "assignee__username",
                  "assignee__display_name", "assignee__first_name", "assignee__last_name")
            .order_by("-submitted_at", "-pk"))
    listed: dict[int, list[ListedTicket]] = defaultdict(list)
    for ticket in rows:
        listed[group_of[ticket.pk]].append(ListedTicket(
            ticket.key, ticket.title, ticket.status, str(Status(ticket.status).label),
            ticket.submitted_at, str(ticket.assignee) if ticket.assignee else None))
    return [listed[i] for i in range(len(groups))]
