"""The dashboard page: filters and empty chart frames; the charts fetch their figures from the
reports API (dashboard.js), so each draws as soon as its own figure arrives."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import list_modules
from opsdesk.reports.periods import RANGES
from opsdesk.reports.policy import may_view_dashboards


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not may_view_dashboards(user):
        raise PermissionDenied
    days = request.GET.get("days", "")
    module = request.GET.get("module", "")
    modules = list(list_modules().values_list("code", "name"))
    return render(request, "reports/dashboard.html", {
        "ranges": RANGES,
        "days": int(days) if days.isdigit() and int(days) in RANGES else 30,
        "modules": modules,
        "module": module if module in dict(modules) else "",
        "labels": chart_labels(),
    })


def chart_labels() -> dict[str, str]:
    """The words dashboard.js puts on the charts, in the reader's language."""
    return {
        "tickets": _("Tickets"),
        "minutes": _("Minutes"),
        "hours": _("Hours"),
        "median": _("Median"),
        "p90": _("90th percentile"),
        "target": _("SLA target"),
        "count": _("Measured"),
        "responseOnTime": _("Responses on time"),
        "resolutionOnTime": _("Resolutions on time"),
        "period": _("In this period: responses on time {response}, resolutions on time "
                    "{resolution}; running clocks past due now: {breached}."),
        "noData": _("No data"),
        "failed": _("This chart could not be loaded."),
    }
