"""The dashboards' figures as JSON, under /api/v1/reports/ (department staff only)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.reports import selectors
from opsdesk.reports.periods import RANGES, Period
from opsdesk.reports.policy import may_view_dashboards
from opsdesk.tickets.errors import InvalidField, PermissionRefused

router = Router(tags=["reports"])


class ModuleFilter(Schema):
    module: str | None = None  # a module's code or id; empty: every module


class RangeFilter(ModuleFilter):
    days: int = 30  # one of periods.RANGES


class SeriesOut(Schema):
    code: str
    label: str
    values: list[int]


class ModuleOut(Schema):
    id: int | None
    name: str


class OpenTicketsOut(Schema):
    modules: list[ModuleOut]
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


def _module_id(request: HttpRequest, filters: ModuleFilter) -> int | None:
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
    return module.pk


def _period(filters: RangeFilter) -> Period:
    if filters.days not in RANGES:
        raise InvalidField(_("The period must be one of %s days.")
                           % ", ".join(str(n) for n in RANGES), field="days")
    return Period.last(filters.days)


@router.get("/reports/open-tickets", response=OpenTicketsOut,
            summary="Open tickets by module and priority")
def open_tickets(request: HttpRequest, filters: Query[ModuleFilter]) -> selectors.OpenTickets:
    return selectors.open_tickets(module_id=_module_id(request, filters))


@router.get("/reports/inflow", response=InflowOut,
            summary="Tickets submitted per day (in your time zone), by source")
def inflow(request: HttpRequest, filters: Query[RangeFilter]) -> selectors.Inflow:
    module_id = _module_id(request, filters)
    return selectors.inflow(period=_period(filters), module_id=module_id)


@router.get("/reports/times", response=TimesOut,
            summary="Response and resolution times per priority against the SLA targets")
def times(request: HttpRequest, filters: Query[RangeFilter]) -> selectors.Times:
    module_id = _module_id(request, filters)
    return selectors.times(period=_period(filters), module_id=module_id)


@router.get("/reports/sla-compliance", response=ComplianceOut,
            summary="Responses and resolutions on time, per day (in your time zone)")
def sla_compliance(request: HttpRequest, filters: Query[RangeFilter]) -> selectors.Compliance:
    module_id = _module_id(request, filters)
    return selectors.compliance(period=_period(filters), module_id=module_id)


@router.get("/reports/backlog-age", response=BacklogAgeOut,
            summary="Open tickets by age and priority")
def backlog_age(request: HttpRequest, filters: Query[ModuleFilter]) -> selectors.BacklogAge:
    return selectors.backlog_age(module_id=_module_id(request, filters))
