"""The dashboard and review pages: filters, download links and empty chart frames; the charts
fetch their figures from the reports API (dashboard.js, review.js), so each draws as soon as its
own figure arrives. The review's recurring problems are tables rendered here, with links."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_module_by_ref, list_modules
from opsdesk.bounds import positive_int
from opsdesk.reports import recurring, review
from opsdesk.reports.periods import MONTH_RANGES, RANGES, MonthPeriod
from opsdesk.reports.policy import may_view_dashboards


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not may_view_dashboards(user):
        raise PermissionDenied
    return user


def _chosen(request: HttpRequest, name: str, offered: tuple[int, ...], default: int) -> int:
    number = positive_int(request.GET.get(name, ""))
    return number if number in offered else default


def _module_filter(request: HttpRequest) -> tuple[list[tuple[str, str]], str]:
    """The modules offered and the one chosen (its code; empty for every module)."""
    modules = list(list_modules().values_list("code", "name"))
    module = request.GET.get("module", "")
    return modules, module if module in dict(modules) else ""


def _query(**params: object) -> str:
    """The filters as the API takes them, for download links (an empty module left out)."""
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _staff(request)
    modules, module = _module_filter(request)
    days = _chosen(request, "days", RANGES, 30)
    return render(request, "reports/dashboard.html", {
        "ranges": RANGES,
        "days": days,
        "modules": modules,
        "module": module,
        "query": _query(days=days, module=module),
        "labels": chart_labels(),
        "nav": "dashboards",
        "tab": "dashboard",
    })


@login_required
def monthly_review(request: HttpRequest) -> HttpResponse:
    _staff(request)
    modules, module = _module_filter(request)
    months = _chosen(request, "months", MONTH_RANGES, 12)
    least = positive_int(request.GET.get("min_tickets", ""))
    low, high = recurring.MIN_TICKETS_RANGE
    if least is None or not low <= least <= high:
        least = recurring.DEFAULT_MIN_TICKETS
    period = MonthPeriod.last(months)
    chosen = get_module_by_ref(module) if module else None
    module_id = None if chosen is None else chosen.pk
    return render(request, "reports/review.html", {
        "month_ranges": MONTH_RANGES,
        "months": months,
        "modules": modules,
        "module": module,
        "min_tickets": least,
        "min_range": recurring.MIN_TICKETS_RANGE,
        "query": _query(months=months, module=module),
        "recurring_query": _query(months=months, module=module, min_tickets=least),
        "period": period,
        "problems": recurring.recurring_problems(period=period, min_tickets=least,
                                                 module_id=module_id),
        "alerts": recurring.recurring_alerts(period=period, min_tickets=least,
                                             module_id=module_id),
        "speed_breakdowns": [(b, review.BREAKDOWNS[b]) for b in review.SPEED_BREAKDOWNS],
        "rating_breakdowns": [(b, review.BREAKDOWNS[b])
                              for b in review.SATISFACTION_BREAKDOWNS],
        "labels": chart_labels(),
        "nav": "dashboards",
        "tab": "review",
    })


def chart_labels() -> dict[str, str]:
    """The words dashboard.js and review.js put on the charts, in the reader's language."""
    return {
        "tickets": _("Tickets"),
        "minutes": _("Minutes"),
        "hours": _("Hours"),
        "median": _("Median"),
        "p90": _("90th percentile"),
        "mean": _("Mean"),
        "target": _("SLA target"),
        "count": _("Measured"),
        "responseOnTime": _("Responses on time"),
        "resolutionOnTime": _("Resolutions on time"),
        "period": _("In this period: responses on time {response}, resolutions on time "
                    "{resolution}; running clocks past due now: {breached}."),
        "closed": _("Tickets closed"),
        "reopened": _("Tickets reopened"),
        "reopenRate": _("Reopen rate"),
        "reopenNote": _("In this period: {reopened} of {closed} closed tickets reopened "
                        "({percent})."),
        "ratings": _("Ratings"),
        "average": _("Average score"),
        "score": _("Score %d"),
        "ratingNote": _("{count} ratings, average {average}."),
        "speedNote": _("{count} tickets, mean {mean}."),
        "noData": _("No data"),
        "failed": _("This chart could not be loaded."),
    }
