"""The department head's monthly review: reopen rate, satisfaction, and the elapsed time to
acknowledge (MTTA) and to resolve (MTTR), by month, module, problem type, source or assignee.

Each figure is one aggregate query over the rows of the period, grouped in the database; months
are the reader's calendar months (``periods.MonthPeriod``). Unlike the dashboard's SLA times,
which count business time with pauses left out, MTTA and MTTR are the wall-clock time the
submitter waited: nights, weekends and waiting on her included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.expressions import Combinable
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.reports.days import Elapsed, month_of
from opsdesk.reports.durations import Summary, summarise
from opsdesk.reports.periods import MonthPeriod
from opsdesk.reports.selectors import percent_of
from opsdesk.sla.models import Clock
from opsdesk.tickets.choices import SourceKind
from opsdesk.tickets.models import SupportRating, Ticket

# What a figure can be broken down by, and the header of that column.
BREAKDOWNS: dict[str, Promise] = {
    "month": _("Month"),
    "module": _("Module"),
    "problem_type": _("Problem type"),
    "source": _("Source"),
    "assignee": _("Assignee"),
}
SPEED_BREAKDOWNS = tuple(BREAKDOWNS)
SATISFACTION_BREAKDOWNS = ("month", "module", "assignee")
SCORES = tuple(SupportRating.SCORES)
# The ticket column behind each breakdown but the month.
TICKET_COLUMNS = {"module": "module", "problem_type": "problem_type", "source": "source_kind",
                  "assignee": "assignee"}
NO_MODULE = _("No module yet")
NOT_CLASSIFIED = _("Not classified yet")
NOBODY = _("Nobody yet")


@dataclass(frozen=True)
class ReopenRate:
    months: list[date]  # the first day of each month
    closed: list[int]
    reopened: list[int]
    percent: list[float | None]  # None in a month when nothing closed
    total_closed: int
    total_reopened: int
    overall_percent: float | None


@dataclass(frozen=True)
class Group:
    """One category of a breakdown: a key for machines (a month as 2026-11, a module's id, a
    problem type's or source's code, an assignee's username; None for 'none yet'), a label for
    people."""

    key: str | None
    label: str


@dataclass(frozen=True)
class GroupRatings(Group):
    count: int
    average: float | None
    scores: list[int]  # how many ratings of 1, 2, 3, 4 and 5


@dataclass(frozen=True)
class Satisfaction:
    by: str
    groups: list[GroupRatings]
    count: int
    average: float | None
    scores: list[int]


@dataclass(frozen=True)
class GroupTimes(Group):
    count: int
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True)
class Speed:
    by: str
    groups: list[GroupTimes]
    count: int
    mean_minutes: float | None


def reopen_rate(*, period: MonthPeriod, module_id: int | None = None) -> ReopenRate:
    """Per month, the tickets closed (their last closing) and how many of them were ever
    reopened or had their fix found not fixed (``reopen_count`` > 0)."""
    tickets = Ticket.objects.filter(closed_at__gte=period.start, closed_at__lt=period.end)
    if module_id is not None:
        tickets = tickets.filter(module_id=module_id)
    rows = (tickets.annotate(month=month_of("closed_at", period.bounds))
            .values_list("month")
            .annotate(closed=Count("pk"), reopened=Count("pk", filter=Q(reopen_count__gt=0)))
            .order_by())
    closed, reopened = [0] * period.months, [0] * period.months
    for month, month_closed, month_reopened in rows:
        closed[month], reopened[month] = month_closed, month_reopened
    return ReopenRate(
        period.firsts, closed, reopened,
        [percent_of(r, c) for r, c in zip(reopened, closed, strict=True)],
        sum(closed), sum(reopened), percent_of(sum(reopened), sum(closed)),
    )


def satisfaction(*, period: MonthPeriod, by: str, module_id: int | None = None) -> Satisfaction:
    """The submitters' ratings (1–5) given in the period: how many of each score and their
    average, per month rated, module or assignee."""
    ratings = SupportRating.objects.filter(created_at__gte=period.start,
                                           created_at__lt=period.end)
    if module_id is not None:
        ratings = ratings.filter(ticket__module_id=module_id)
    rows = (ratings.annotate(report_group=_group_key(by, period, ticket="ticket__",
                                                     moment="created_at"))
            .values_list("report_group", "score").annotate(n=Count("pk")).order_by())
    scores: dict[Any, list[int]] = defaultdict(lambda: [0] * len(SCORES))
    for key, score, n in rows:
        scores[key][score - 1] = n
    groups = [GroupRatings(group.key, group.label, sum(scores[db_key]),
                           _average(scores[db_key]), scores[db_key])
              for db_key, group in _groups(by, period, {k: sum(v) for k, v in scores.items()})]
    total = [sum(column) for column in zip(*scores.values(), strict=True)] or [0] * len(SCORES)
    return Satisfaction(by, groups, sum(total), _average(total), total)


def _average(scores: list[int]) -> float | None:
    count = sum(scores)
    if not count:
        return None
    return round(sum(score * n for score, n in zip(SCORES, scores, strict=True)) / count, 2)


def time_to_acknowledge(*, period: MonthPeriod, by: str,
                        module_id: int | None = None) -> Speed:
    """MTTA: from submission to the first response (the SLA clock's ``responded_at``), for
    the tickets first responded to in the period."""
    return _speed(_clocks(module_id), "responded_at", period, by)


def time_to_resolve(*, period: MonthPeriod, by: str, module_id: int | None = None) -> Speed:
    """MTTR: from submission to resolution (the SLA clock's ``resolved_at``: sent for
    verification, or closed without), for the tickets resolved in the period."""
    return _speed(_clocks(module_id), "resolved_at", period, by)


def _clocks(module_id: int | None) -> QuerySet[Clock]:
    clocks = Clock.objects.all()
    return clocks if module_id is None else clocks.filter(ticket__module_id=module_id)


def _speed(clocks: QuerySet[Clock], stopped: str, period: MonthPeriod, by: str) -> Speed:
    within = clocks.filter(**{f"{stopped}__gte": period.start, f"{stopped}__lt": period.end})
    # A clock starts at the ticket's submission (sla.services.start_clocks).
    summaries = summarise(within, group=_group_key(by, period, ticket="ticket__",
                                                   moment=stopped),
                          seconds=Elapsed(stopped, "started_at"))
    groups = []
    for db_key, group in _groups(by, period, {k: s.count for k, s in summaries.items()}):
        summary = summaries.get(db_key)
        groups.append(_times(group, summary))
    count = sum(s.count for s in summaries.values())
    mean = sum(s.mean_seconds * s.count for s in summaries.values()) / count if count else None
    return Speed(by, groups, count, _minutes(mean))


def _times(group: Group, summary: Summary | None) -> GroupTimes:
    if summary is None:
        return GroupTimes(group.key, group.label, 0, None, None, None)
    return GroupTimes(group.key, group.label, summary.count, _minutes(summary.mean_seconds),
                      _minutes(summary.median_seconds), _minutes(summary.p90_seconds))


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _group_key(by: str, period: MonthPeriod, *, ticket: str, moment: str) -> Combinable:
    """The SQL value rows are grouped by: the month of ``moment``, or a column of the ticket
    (``ticket`` is the path to it from the rows counted)."""
    if by == "month":
        return month_of(moment, period.bounds)
    return F(ticket + TICKET_COLUMNS[by])


def _groups(by: str, period: MonthPeriod, counts: dict[Any, int]) -> list[tuple[Any, Group]]:
    """Each category to show, in order, with the value it has in the database: every month
    and every source and problem type; the modules and assignees that have rows, busiest
    first."""
    if by == "month":
        return [(i, Group(first.strftime("%Y-%m"), first.strftime("%Y-%m")))
                for i, first in enumerate(period.firsts)]
    if by == "source":
        return [(s.value, Group(s.value, str(s.label))) for s in SourceKind]
    if by == "problem_type":
        kinds = [(p.value, Group(p.value, str(p.label))) for p in ProblemType]
        return kinds + ([("", Group(None, str(NOT_CLASSIFIED)))] if "" in counts else [])
    names = _module_names(counts) if by == "module" else _assignee_names(counts)
    order = sorted(counts, key=lambda k: (-counts[k], k is None, names[k][1]))
    return [(k, Group(*names[k])) for k in order]


def _module_names(ids: Iterable[int | None]) -> dict[Any, tuple[str | None, str]]:
    names: dict[Any, tuple[str | None, str]] = {None: (None, str(NO_MODULE))}
    names.update((pk, (str(pk), name)) for pk, name in
                 Module.objects.filter(pk__in=[i for i in ids if i is not None])
                 .values_list("pk", "name"))
    return names


def _assignee_names(ids: Iterable[int | None]) -> dict[Any, tuple[str | None, str]]:
    names: dict[Any, tuple[str | None, str]] = {None: (None, str(NOBODY))}
    people = User.objects.filter(pk__in=[i for i in ids if i is not None]).only(
        "username", "display_name", "first_name", "last_name")
    names.update((person.pk, (person.username, str(person))) for person in people)
    return names
