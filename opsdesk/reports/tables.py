"""Each figure as the table its export holds: the rows a chart draws, headers in the reader's
language, and notes saying what the figure covers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.reports import recurring, review, selectors
from opsdesk.reports.exports import Cell, Link, Table

TicketUrl = Callable[[str], str]  # a ticket's key → the address of its page


@dataclass(frozen=True)
class Scope:
    """What a figure covers, for the notes under its rows."""

    module: str | None  # the module's name; None: every module
    first: date | None = None  # the period's first and last days; None: as of now
    last: date | None = None

    def notes(self) -> list[tuple[str, Cell]]:
        notes: list[tuple[str, Cell]] = []
        if self.first is not None:
            notes += [(_("From"), self.first), (_("To"), self.last)]
        notes += [
            (_("Module"), self.module or _("All modules")),
            (_("Time zone"), timezone.get_current_timezone_name()),
            (_("Exported at"), timezone.now()),
        ]
        return notes


def open_tickets(figure: selectors.OpenTickets, scope: Scope) -> Table:
    headers = [_("Module"), *(s.label for s in figure.series), _("Total")]
    rows: list[list[Cell]] = []
    for i, module in enumerate(figure.modules):
        counts = [s.values[i] for s in figure.series]
        rows.append([module.name, *counts, sum(counts)])
    return Table(_("Open tickets"), headers, rows, scope.notes())


def backlog_age(figure: selectors.BacklogAge, scope: Scope) -> Table:
    headers = [_("Age"), *(s.label for s in figure.series), _("Total")]
    rows: list[list[Cell]] = []
    for i, group in enumerate(figure.groups):
        counts = [s.values[i] for s in figure.series]
        rows.append([group, *counts, sum(counts)])
    return Table(_("Backlog age"), headers, rows, scope.notes())


def inflow(figure: selectors.Inflow, scope: Scope) -> Table:
    headers = [_("Date"), *(s.label for s in figure.series), _("Total")]
    rows: list[list[Cell]] = []
    for i, day in enumerate(figure.days):
        counts = [s.values[i] for s in figure.series]
        rows.append([day, *counts, sum(counts)])
    return Table(_("Inflow"), headers, rows, scope.notes())


def times(figure: selectors.Times, scope: Scope) -> Table:
    headers = [_("Measure"), _("Priority"), _("Measured"), _("Median (minutes)"),
               _("90th percentile (minutes)"), _("SLA target (minutes)")]
    rows: list[list[Cell]] = []
    for measure, entries in ((_("Response"), figure.response),
                             (_("Resolution"), figure.resolution)):
        rows += [[measure, e.label, e.count, e.median_minutes, e.p90_minutes, e.target_minutes]
                 for e in entries]
    return Table(_("SLA times"), headers, rows, scope.notes())


def sla_compliance(figure: selectors.Compliance, scope: Scope) -> Table:
    headers = [_("Date"), _("Responses on time"), _("Responses"), _("Responses on time (%)"),
               _("Resolutions on time"), _("Resolutions"), _("Resolutions on time (%)")]
    response, resolution = figure.response, figure.resolution
    rows: list[list[Cell]] = [
        [day, response.met[i], response.total[i], response.percent[i],
         resolution.met[i], resolution.total[i], resolution.percent[i]]
        for i, day in enumerate(figure.days)
    ]
    rows.append([_("Whole period"), sum(response.met), sum(response.total),
                 response.overall_percent, sum(resolution.met), sum(resolution.total),
                 resolution.overall_percent])
    notes = [(_("Running clocks past due now"), figure.breached_now), *scope.notes()]
    return Table(_("SLA compliance"), headers, rows, notes)


def reopen_rate(figure: review.ReopenRate, scope: Scope) -> Table:
    headers = [_("Month"), _("Tickets closed"), _("Tickets reopened"), _("Reopen rate (%)")]
    rows: list[list[Cell]] = [
        [month.strftime("%Y-%m"), closed, reopened, percent]
        for month, closed, reopened, percent in zip(
            figure.months, figure.closed, figure.reopened, figure.percent, strict=True)
    ]
    rows.append([_("Whole period"), figure.total_closed, figure.total_reopened,
                 figure.overall_percent])
    return Table(_("Reopen rate"), headers, rows, scope.notes())


def satisfaction(figure: review.Satisfaction, scope: Scope) -> Table:
    headers = [str(review.BREAKDOWNS[figure.by]), _("Ratings"), _("Average score"),
               *(_("Score %d") % score for score in review.SCORES)]
    rows: list[list[Cell]] = [[g.label, g.count, g.average, *g.scores] for g in figure.groups]
    rows.append([_("All"), figure.count, figure.average, *figure.scores])
    return Table(_("Satisfaction"), headers, rows, scope.notes())


def speed(figure: review.Speed, scope: Scope, *, sheet: str) -> Table:
    headers = [str(review.BREAKDOWNS[figure.by]), _("Tickets"), _("Mean (minutes)"),
               _("Median (minutes)"), _("90th percentile (minutes)")]
    rows: list[list[Cell]] = [
        [g.label, g.count, g.mean_minutes, g.median_minutes, g.p90_minutes]
        for g in figure.groups
    ]
    rows.append([_("All"), figure.count, figure.mean_minutes, None, None])
    return Table(sheet, headers, rows, scope.notes())


def _ticket_cells(ticket: recurring.ListedTicket, url: TicketUrl) -> list[Cell]:
    address = url(ticket.key)
    return [Link(ticket.key, address), ticket.title, ticket.status_label, ticket.submitted_at,
            ticket.assignee, address]


def _ticket_headers() -> list[str]:
    return [_("Ticket"), _("Title"), _("Status"), _("Submitted at"), _("Assignee"),
            _("Ticket page")]


def recurring_problems(figure: recurring.RecurringProblems, scope: Scope,
                       url: TicketUrl) -> Table:
    """A row per listed ticket, after its group's module, problem type and count."""
    headers = [_("Module"), _("Problem type"), _("Tickets in the period"), *_ticket_headers()]
    rows: list[list[Cell]] = [
        [group.module.name, group.problem_type_label, group.count, *_ticket_cells(t, url)]
        for group in figure.groups for t in group.tickets
    ]
    notes = [(_("At least this many tickets"), figure.min_tickets),
             (_("More groups, not listed"), figure.more_groups), *scope.notes()]
    return Table(_("Recurring problems"), headers, rows, notes)


def recurring_alerts(figure: recurring.RecurringAlerts, scope: Scope, url: TicketUrl) -> Table:
    headers = [_("Alert rule"), _("Host"), _("Tickets in the period"), *_ticket_headers()]
    rows: list[list[Cell]] = [
        [group.rule, group.host, group.count, *_ticket_cells(t, url)]
        for group in figure.groups for t in group.tickets
    ]
    notes = [(_("At least this many tickets"), figure.min_tickets),
             (_("More groups, not listed"), figure.more_groups), *scope.notes()]
    return Table(_("Recurring alerts"), headers, rows, notes)
