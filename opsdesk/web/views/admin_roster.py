"""The duty roster page (/manage/roster/): a week of shifts day by day, the hours nobody is on
duty and the shifts that overlap shown, a person picked per shift, shifts planned, changed and
removed through the roster service."""

from __future__ import annotations

import calendar
import contextlib
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.routing import roster
from opsdesk.routing.models import DutyShift
from opsdesk.web.views.admin_common import PersonChoice, admin_page, refused
from opsdesk.web.views.common import person

MOMENT = "%Y-%m-%dT%H:%M"


def _duty_engineers() -> Any:
    return User.objects.filter(is_active=True, groups__name=Role.DUTY).distinct() \
        .order_by("username")


class ShiftForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MOMENT))
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MOMENT),
        help_text=gettext_lazy("A night shift ends on the next day."))
    engineer = PersonChoice(queryset=User.objects.none(), label=gettext_lazy("Duty engineer"))
    backup = PersonChoice(queryset=User.objects.none(), label=gettext_lazy("Backup"),
                          required=False, empty_label=gettext_lazy("(nobody)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engineer, backup = self.fields["engineer"], self.fields["backup"]
        assert isinstance(engineer, PersonChoice) and isinstance(backup, PersonChoice)
        engineer.queryset = backup.queryset = _duty_engineers()


class PickForm(forms.Form):
    engineer = PersonChoice(queryset=User.objects.none(), label=gettext_lazy("Duty engineer"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engineer = self.fields["engineer"]
        assert isinstance(engineer, PersonChoice)
        engineer.queryset = _duty_engineers()


def _first_day(request: HttpRequest) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", "")[:10])
    except ValueError:
        day = timezone.localdate()
    return roster.week_start(day)


def _week_url(day: date) -> str:
    return f"{reverse('web:manage_roster')}?{urlencode({'week': day.isoformat()})}"


def _month_url(day: date) -> str:
    return f"{reverse('web:manage_roster')}?{urlencode({'month': day.strftime('%Y-%m')})}"


def _month(request: HttpRequest) -> date | None:
    """The first day of the month asked for (?month=2026-12), if a month is."""
    try:
        return date.fromisoformat(request.GET.get("month", "")[:7] + "-01")
    except ValueError:
        return None


def _page(request: HttpRequest, first_day: date, form: ShiftForm, status: int = 200
          ) -> HttpResponse:
    month = _month(request)
    if month is not None:
        days = calendar.monthrange(month.year, month.month)[1]
        first_day, last_day = month, month + timedelta(days=days - 1)
        around = {"previous": _month_url(month - timedelta(days=1)),
                  "next": _month_url(last_day + timedelta(days=1)),
                  "current": _month_url(timezone.localdate()),
                  "other_view": _week_url(roster.week_start(month))}
    else:
        days, last_day = 7, first_day + timedelta(days=6)
        around = {"previous": _week_url(first_day - timedelta(days=7)),
                  "next": _week_url(first_day + timedelta(days=7)),
                  "current": _week_url(roster.week_start(timezone.localdate())),
                  "other_view": _month_url(first_day)}
    period = roster.read_roster(first_day=first_day, days=days)
    return render(request, "web/manage/roster.html", {
        "nav": "manage", "week": period, "form": form, "engineers": list(_duty_engineers()),
        "month": month, "first_day": first_day, "last_day": last_day, **around,
        "gap_hours": _hours(sum(((b - a).total_seconds() for a, b in period.gaps), 0.0)),
    }, status=status)


def _hours(seconds: float) -> int | float:
    """Hours to one decimal, a whole number without one (168, not 168.0)."""
    hours = round(seconds / 3600, 1)
    return int(hours) if hours == int(hours) else hours


def _initial(request: HttpRequest) -> dict[str, Any]:
    """A gap's "fill" link prefills the new shift with the gap's bounds."""
    initial: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        with contextlib.suppress(ValueError):
            initial[name] = datetime.fromisoformat(request.GET.get(name, "")[:25])
    return initial


@admin_page
def week(request: HttpRequest) -> HttpResponse:
    first_day = _first_day(request)
    if request.method != "POST":
        return _page(request, first_day, ShiftForm(initial=_initial(request)))
    form = ShiftForm(request.POST)
    if form.is_valid():
        try:
            shift = roster.plan_shift(by=person(request), **form.cleaned_data)
        except ValidationError as exc:
            refused(form, exc)
        else:
            messages.success(request, _("%(person)s is on duty from %(start)s to %(end)s.") % {
                "person": shift.engineer, "start": roster.moment(shift.starts_at),
                "end": roster.moment(shift.ends_at)})
            return redirect(_week_url(roster.week_start(timezone.localdate(shift.starts_at))))
    return _page(request, first_day, form, status=422)


@admin_page
def shift(request: HttpRequest, shift_id: int) -> HttpResponse:
    planned = get_object_or_404(DutyShift.objects.select_related("engineer", "backup"),
                                pk=shift_id)
    back = _week_url(roster.week_start(timezone.localdate(planned.starts_at)))
    form = ShiftForm(request.POST or None, initial={
        name: getattr(planned, name) for name in roster.SHIFT_FIELDS})
    if request.method == "POST" and form.is_valid():
        try:
            roster.change_shift(by=person(request), shift=planned, **form.cleaned_data)
        except ValidationError as exc:
            refused(form, exc)
        else:
            messages.success(request, _("The shift is changed."))
            return redirect(back)
    return render(request, "web/manage/shift.html", {
        "nav": "manage", "shift": planned, "form": form, "back": back,
    }, status=422 if form.errors else 200)


@admin_page
@require_POST
def pick(request: HttpRequest, shift_id: int) -> HttpResponse:
    """Give a planned shift to another duty engineer, picked from the list."""
    planned = get_object_or_404(DutyShift, pk=shift_id)
    back = _week_url(roster.week_start(timezone.localdate(planned.starts_at)))
    form = PickForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(list(form.errors["engineer"]))
        roster.change_shift(by=person(request), shift=planned,
                            engineer=form.cleaned_data["engineer"])
    except ValidationError as exc:
        for problem in exc.messages:
            messages.error(request, problem)
    else:
        messages.success(request, _("%(person)s takes the shift from %(start)s.") % {
            "person": planned.engineer, "start": roster.moment(planned.starts_at)})
    return redirect(back)


@admin_page
@require_POST
def remove(request: HttpRequest, shift_id: int) -> HttpResponse:
    planned = get_object_or_404(DutyShift, pk=shift_id)
    back = _week_url(roster.week_start(timezone.localdate(planned.starts_at)))
    roster.remove_shift(by=person(request), shift=planned)
    messages.success(request, _("The shift is taken off the roster."))
    return redirect(back)
