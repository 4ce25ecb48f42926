"""The dashboards' and the review's figures under /api/v1/reports/ (department staff only):
JSON, or with ``format=csv`` or ``format=xlsx`` the same figure as a file to download; and
each page's figures together as one workbook, a sheet per figure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.reports import recurring, review, selectors, tables, ticket_export
from opsdesk.reports.exports import CSV_TYPE, XLSX_TYPE, Table, to_csv, to_xlsx
from opsdesk.reports.periods import MONTH_RANGES, RANGES, MonthPeriod, Period
from opsdesk.reports.policy import may_view_dashboards
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import InvalidField, PermissionRefused
from opsdesk.tickets.schemas import PriorityCode
from opsdesk.tickets.selectors import TicketFilters

router = Router(tags=["reports"])

Format = Literal["json", "csv", "xlsx"]
SpeedBy = Literal["month", "module", "problem_type", "source", "assignee"]
SatisfactionBy = Literal["month", "module", "assignee"]

FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string", "description": "UTF-8 with a byte-order mark"}},
    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
}
# The figure endpoints answer JSON by default and a file with format=csv or format=xlsx.
DOWNLOADABLE = {"responses": {200: {
    "description": "The figure as JSON; with format=csv or format=xlsx the same figure as a "
                   "file to download (Content-Disposition: attachment).",
    "content": FILE_CONTENT,
}}}
WORKBOOK = {"responses": {200: {
    "description": "An XLSX workbook to download, a sheet per figure.",
    "content": {XLSX_TYPE: FILE_CONTENT[XLSX_TYPE]},
}}}


class ModuleFilter(Schema):
    module: str | None = None  # a module's code or id; empty: every module


class RangeFilter(ModuleFilter):
    days: int = 30  # one of periods.RANGES


class MonthFilter(ModuleFilter):
    months: int = 12  # one of periods.MONTH_RANGES


class Download(Schema):
    format: Format = "json"  # csv or xlsx: the figure as a file to download


class ModuleFigure(ModuleFilter, Download):
    pass


class RangeFigure(RangeFilter, Download):
    pass


class MonthFigure(MonthFilter, Download):
    pass


class SpeedFigure(MonthFigure):
    by: SpeedBy = "month"


class SatisfactionFigure(MonthFigure):
    by: SatisfactionBy = "month"


class RecurringFilter(MonthFilter):
    min_tickets: int = Field(recurring.DEFAULT_MIN_TICKETS, ge=recurring.MIN_TICKETS_RANGE[0],
                             le=recurring.MIN_TICKETS_RANGE[1])


class RecurringFigure(RecurringFilter, Download):
    pass


class SeriesOut(Schema):
    code: str
    label: str
    values: list[int]


class ReportModuleOut(Schema):
    id: int | None
    name: str


class OpenTicketsOut(Schema):
    modules: list[ReportModuleOut]
    series: list[SeriesOut]
    total: int


class InflowOut(Schema):
    days: list[date]
    series: list[SeriesOut]
    total: int


class BacklogAgeOut(Schema):
    groups: list[str]
    series: list[SeriesOut]
    total: int


class PriorityTimesOut(Schema):
    priority: str
    label: str
    count: int
    median_minutes: float | None
    p90_minutes: float | None
    target_minutes: float | None


class TimesOut(Schema):
    response: list[PriorityTimesOut]
    resolution: list[PriorityTimesOut]


class DailyComplianceOut(Schema):
    met: list[int]
    total: list[int]
    percent: list[float | None]
    overall_percent: float | None


class ComplianceOut(Schema):
    days: list[date]
    response: DailyComplianceOut
    resolution: DailyComplianceOut
    breached_now: int


class ReopenRateOut(Schema):
    months: list[date]
    closed: list[int]
    reopened: list[int]
    percent: list[float | None]
    total_closed: int
    total_reopened: int
    overall_percent: float | None


class GroupRatingsOut(Schema):
    key: str | None
    label: str
    count: int
    average: float | None
    scores: list[int]


class SatisfactionOut(Schema):
    by: str
    groups: list[GroupRatingsOut]
    count: int
    average: float | None
    scores: list[int]


class GroupTimesOut(Schema):
    key: str | None
    label: str
    count: int
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None


class SpeedOut(Schema):
    by: str
    groups: list[GroupTimesOut]
    count: int
    mean_minutes: float | None


class ListedTicketOut(Schema):
    key: str
    title: str
    status: str
    status_label: str
    submitted_at: datetime
    assignee: str | None


class RecurringProblemOut(Schema):
    module: ReportModuleOut
    problem_type: str
    problem_type_label: str
    count: int
    tickets: list[ListedTicketOut]


class RecurringProblemsOut(Schema):
    min_tickets: int
    groups: list[RecurringProblemOut]
    more_groups: int


class RecurringAlertOut(Schema):
    rule: str
    host: str
    count: int
    tickets: list[ListedTicketOut]


class RecurringAlertsOut(Schema):
    min_tickets: int
    groups: list[RecurringAlertOut]
    more_groups: int


def _module(request: HttpRequest, filters: ModuleFilter) -> Module | None:
    """Refuse anyone but staff; resolve the module filter (a clear 422 when unknown)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    if not may_view_dashboards(user):
        raise PermissionRefused(_("Dashboards are for the department's staff."))
    if not filters.module:
        return None
    module = get_module_by_ref(filters.module)
    if module is None:
        raise InvalidField(_("No module %s.") % filters.module, field="module")
    return module


def _pk(module: Module | None) -> int | None:
    return None if module is None else module.pk


def _period(filters: RangeFilter) -> Period:
    if filters.days not in RANGES:
        raise InvalidField(_("The period must be one of %s days.")
                           % ", ".join(str(n) for n in RANGES), field="days")
    return Period.last(filters.days)


def _months(filters: MonthFilter) -> MonthPeriod:
    if filters.months not in MONTH_RANGES:
        raise InvalidField(_("The period must be one of %s months.")
                           % ", ".join(str(n) for n in MONTH_RANGES), field="months")
    return MonthPeriod.last(filters.months)


def _scope(module: Module | None, period: Period | MonthPeriod | None = None) -> tables.Scope:
    name = None if module is None else module.name
    if period is None:
        return tables.Scope(name)
    return tables.Scope(name, period.start.date(), period.last_date)


def _ticket_url(request: HttpRequest) -> tables.TicketUrl:
    return lambda key: request.build_absolute_uri(reverse("web:ticket", args=[key]))


def _download(name: str, tables_: list[Table], file_format: str) -> HttpResponse:
    if file_format == "csv":
        body, content_type = to_csv(tables_[0]), CSV_TYPE
    else:
        body, content_type = to_xlsx(tables_), XLSX_TYPE
    response = HttpResponse(body, content_type=content_type)
    filename = f"opsdesk-{name}-{timezone.localdate():%Y-%m-%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _answer(name: str, figure: Any, file_format: str, table: Callable[[], Table]) -> Any:
    """The figure itself for JSON, or its table as the file asked for."""
    return figure if file_format == "json" else _download(name, [table()], file_format)


@router.get("/reports/open-tickets", response=OpenTicketsOut, openapi_extra=DOWNLOADABLE,
            summary="Open tickets by module and priority")
def open_tickets(request: HttpRequest, filters: Query[ModuleFigure]) -> Any:
    module = _module(request, filters)
    figure = selectors.open_tickets(module_id=_pk(module))
    return _answer("open-tickets", figure, filters.format,
                   lambda: tables.open_tickets(figure, _scope(module)))


@router.get("/reports/inflow", response=InflowOut, openapi_extra=DOWNLOADABLE,
            summary="Tickets submitted per day (in your time zone), by source")
def inflow(request: HttpRequest, filters: Query[RangeFigure]) -> Any:
    module = _module(request, filters)
    period = _period(filters)
    figure = selectors.inflow(period=period, module_id=_pk(module))
    return _answer("inflow", figure, filters.format,
                   lambda: tables.inflow(figure, _scope(module, period)))


@router.get("/reports/times", response=TimesOut, openapi_extra=DOWNLOADABLE,
            summary="Response and resolution times per priority against the SLA targets")
def times(request: HttpRequest, filters: Query[RangeFigure]) -> Any:
    module = _module(request, filters)
    period = _period(filters)
    figure = selectors.times(period=period, module_id=_pk(module))
    return _answer("times", figure, filters.format,
                   lambda: tables.times(figure, _scope(module, period)))


@router.get("/reports/sla-compliance", response=ComplianceOut, openapi_extra=DOWNLOADABLE,
            summary="Responses and resolutions on time, per day (in your time zone)")
def sla_compliance(request: HttpRequest, filters: Query[RangeFigure]) -> Any:
    module = _module(request, filters)
    period = _period(filters)
    figure = selectors.compliance(period=period, module_id=_pk(module))
    return _answer("sla-compliance", figure, filters.format,
                   lambda: tables.sla_compliance(figure, _scope(module, period)))


@router.get("/reports/backlog-age", response=BacklogAgeOut, openapi_extra=DOWNLOADABLE,
            summary="Open tickets by age and priority")
def backlog_age(request: HttpRequest, filters: Query[ModuleFigure]) -> Any:
    module = _module(request, filters)
    figure = selectors.backlog_age(module_id=_pk(module))
    return _answer("backlog-age", figure, filters.format,
                   lambda: tables.backlog_age(figure, _scope(module)))


@router.get("/reports/dashboard-workbook", openapi_extra=WORKBOOK,
            summary="The dashboard's five figures as one XLSX workbook")
def dashboard_workbook(request: HttpRequest, filters: Query[RangeFilter]) -> HttpResponse:
    module = _module(request, filters)
    period, module_id = _period(filters), _pk(module)
    now, ranged = _scope(module), _scope(module, period)
    return _download("dashboard", [
        tables.open_tickets(selectors.open_tickets(module_id=module_id), now),
        tables.backlog_age(selectors.backlog_age(module_id=module_id), now),
        tables.inflow(selectors.inflow(period=period, module_id=module_id), ranged),
        tables.times(selectors.times(period=period, module_id=module_id), ranged),
        tables.sla_compliance(selectors.compliance(period=period, module_id=module_id), ranged),
    ], "xlsx")


@router.get("/reports/reopen-rate", response=ReopenRateOut, openapi_extra=DOWNLOADABLE,
            summary="Tickets closed per month (in your time zone) and the share reopened")
def reopen_rate(request: HttpRequest, filters: Query[MonthFigure]) -> Any:
    module = _module(request, filters)
    period = _months(filters)
    figure = review.reopen_rate(period=period, module_id=_pk(module))
    return _answer("reopen-rate", figure, filters.format,
                   lambda: tables.reopen_rate(figure, _scope(module, period)))


@router.get("/reports/satisfaction", response=SatisfactionOut, openapi_extra=DOWNLOADABLE,
            summary="Submitters' ratings (1-5): average and distribution by month, module "
                    "or assignee")
def satisfaction(request: HttpRequest, filters: Query[SatisfactionFigure]) -> Any:
    module = _module(request, filters)
    period = _months(filters)
    figure = review.satisfaction(period=period, by=filters.by, module_id=_pk(module))
    return _answer("satisfaction", figure, filters.format,
                   lambda: tables.satisfaction(figure, _scope(module, period)))


@router.get("/reports/mtta", response=SpeedOut, openapi_extra=DOWNLOADABLE,
            summary="Time to acknowledge (submitted to first response, elapsed): mean, median "
                    "and 90th percentile by month, module, problem type, source or assignee")
def mtta(request: HttpRequest, filters: Query[SpeedFigure]) -> Any:
    module = _module(request, filters)
    period = _months(filters)
    figure = review.time_to_acknowledge(period=period, by=filters.by, module_id=_pk(module))
    return _answer("mtta", figure, filters.format, lambda: tables.speed(
        figure, _scope(module, period), sheet=_("Time to acknowledge")))


@router.get("/reports/mttr", response=SpeedOut, openapi_extra=DOWNLOADABLE,
            summary="Time to resolve (submitted to resolved, elapsed): mean, median and 90th "
                    "percentile by month, module, problem type, source or assignee")
def mttr(request: HttpRequest, filters: Query[SpeedFigure]) -> Any:
    module = _module(request, filters)
    period = _months(filters)
    figure = review.time_to_resolve(period=period, by=filters.by, module_id=_pk(module))
    return _answer("mttr", figure, filters.format, lambda: tables.speed(
        figure, _scope(module, period), sheet=_("Time to resolve")))


@router.get("/reports/recurring-problems", response=RecurringProblemsOut,
            openapi_extra=DOWNLOADABLE,
            summary="The same module and problem type again and again: pairs with at least "
                    "min_tickets tickets in the period, with their newest tickets")
def recurring_problems(request: HttpRequest, filters: Query[RecurringFigure]) -> Any:
    module = _module(request, filters)
    period = _months(filters)
    figure = recurring.recurring_problems(period=period, min_tickets=filters.min_tickets,
                                          module_id=_pk(module))
    return _answer("recurring-problems", figure, filters.format, lambda: (
        tables.recurring_problems(figure, _scope(module, period), _ticket_url(request))))


@router.get("/reports/recurring-alerts", response=RecurringAlertsOut,
            openapi_extra=DOWNLOADABLE,
            summary="The same alert rule on the same host again and again: pairs with at "
                    "least min_tickets tickets in the period, with their newest tickets")
def recurring_alerts(request: HttpRequest, filters: Query[RecurringFigure]) -> Any:
    module = _module(request, filters)
    period = _months(filters)
    figure = recurring.recurring_alerts(period=period, min_tickets=filters.min_tickets,
                                        module_id=_pk(module))
    return _answer("recurring-alerts", figure, filters.format, lambda: (
        tables.recurring_alerts(figure, _scope(module, period), _ticket_url(request))))


@router.get("/reports/review-workbook", openapi_extra=WORKBOOK,
            summary="The review's figures as one XLSX workbook (breakdowns by month)")
def review_workbook(request: HttpRequest, filters: Query[RecurringFilter]) -> HttpResponse:
    module = _module(request, filters)
    period, module_id = _months(filters), _pk(module)
    scope, url, least = _scope(module, period), _ticket_url(request), filters.min_tickets
    return _download("review", [
        tables.reopen_rate(review.reopen_rate(period=period, module_id=module_id), scope),
        tables.satisfaction(
            review.satisfaction(period=period, by="month", module_id=module_id), scope),
        tables.speed(review.time_to_acknowledge(period=period, by="month", module_id=module_id),
                     scope, sheet=_("Time to acknowledge")),
        tables.speed(review.time_to_resolve(period=period, by="month", module_id=module_id),
                     scope, sheet=_("Time to resolve")),
        tables.recurring_problems(recurring.recurring_problems(
            period=period, min_tickets=least, module_id=module_id), scope, url),
        tables.recurring_alerts(recurring.recurring_alerts(
            period=period, min_tickets=least, module_id=module_id), scope, url),
    ], "xlsx")


class TicketExport(Schema):
    status: list[Status] | None = None
    priority: list[PriorityCode] | None = None
    module: str | None = Field(None, max_length=100, description="Code, name or id.")
    assignee: str | None = Field(None, max_length=150, description="Username or id.")
    text: str | None = Field(None, max_length=200, description="Words to search for, as the "
                                                               "ticket list's text=.")
    format: Literal["csv", "xlsx"] = "csv"


@router.get("/reports/tickets", openapi_extra=DOWNLOADABLE,
            summary="The tickets themselves as CSV or XLSX, filtered and searched as the "
                    "ticket list is (archived ones included), at most 10,000 rows")
def export_tickets(request: HttpRequest, filters: Query[TicketExport]) -> HttpResponse:
    _module(request, ModuleFilter())  # staff only
    user = request.auth  # type: ignore[attr-defined]
    chosen = TicketFilters(status=filters.status, priority=filters.priority,
                           module=filters.module, assignee=filters.assignee, text=filters.text)
    table = ticket_export.tickets_table(user=user, filters=chosen,
                                        ticket_url=_ticket_url(request))
    return _download("tickets", [table], filters.format)
