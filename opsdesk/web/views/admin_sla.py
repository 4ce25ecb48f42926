"""The SLA pages (/manage/sla/): policies with their targets in minutes, hours or business
days, and each business calendar's year with its holidays, make-up working days (调休) and
overrides. A change that moves open tickets' deadlines says how many first and is made once
confirmed (counted by ``sla.services.preview``, made by ``sla.configure``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import Module
from opsdesk.sla import configure, services
from opsdesk.sla.calendars import official_schedule_known
from opsdesk.sla.models import BusinessCalendar, OverrideKind, SlaPolicy
from opsdesk.sla.targets import TargetUnit
from opsdesk.tickets.choices import Priority, SourceKind
from opsdesk.web.views.admin_common import admin_page, refused
from opsdesk.web.views.common import person

CONFIRMED = "confirmed"
# A calendar's column headings, as short as a month's grid wants them (一 二 … 日 in Chinese).
WEEKDAY_COLUMNS = [
    pgettext_lazy("calendar column", "Mo"), pgettext_lazy("calendar column", "Tu"),
    pgettext_lazy("calendar column", "We"), pgettext_lazy("calendar column", "Th"),
    pgettext_lazy("calendar column", "Fr"), pgettext_lazy("calendar column", "Sa"),
    pgettext_lazy("calendar column", "Su"),
]
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    order = forms.IntegerField(
        label=gettext_lazy("Order"), min_value=0, initial=100,
        help_text=gettext_lazy("A ticket follows the first enabled policy it matches, lowest "
                               "order first."))
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"), required=False, coerce=int, empty_value=None,
        choices=[("", gettext_lazy("any")), *Priority.choices])
    source_kind = forms.ChoiceField(label=gettext_lazy("Source"), required=False,
                                    choices=[("", gettext_lazy("any")), *SourceKind.choices])
    module = forms.ModelChoiceField(label=gettext_lazy("Module"), required=False,
                                    queryset=Module.objects.order_by("code"),
                                    empty_label=gettext_lazy("any"))
    response_amount = forms.DecimalField(label=gettext_lazy("Respond within"),
                                         min_value=Decimal("0.01"), max_digits=7,
                                         decimal_places=2)
    response_unit = forms.ChoiceField(label=gettext_lazy("unit"), choices=TargetUnit.choices,
                                      initial=TargetUnit.MINUTES)
    resolution_amount = forms.DecimalField(label=gettext_lazy("Resolve within"),
                                           min_value=Decimal("0.01"), max_digits=7,
                                           decimal_places=2)
    resolution_unit = forms.ChoiceField(label=gettext_lazy("unit"), choices=TargetUnit.choices,
                                        initial=TargetUnit.BUSINESS_DAYS)
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Business calendar"), required=False,
        queryset=BusinessCalendar.objects.all(),
        empty_label=gettext_lazy("around the clock (24×7)"),
        help_text=gettext_lazy("Hours are counted inside its working hours; business days "
                               "are its working days, however long each one is."))
    warn_percent = forms.IntegerField(
        label=gettext_lazy("Warn the assignee at this percentage of the target"), min_value=1,
        max_value=99, initial=75)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["warning_fraction"] = data.pop("warn_percent") / 100
        data["source_kind"] = data["source_kind"] or ""
        return data

    @classmethod
    def initial_of(cls, policy: SlaPolicy) -> dict[str, Any]:
        initial = {name: getattr(policy, name) for name in configure.POLICY_FIELDS}
        initial["warn_percent"] = round(policy.warning_fraction * 100)
        for name in ("response_amount", "resolution_amount"):
            initial[name] = initial[name].normalize()
        return initial


class DayForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Date"),
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    kind = forms.ChoiceField(label=gettext_lazy("This day is"), choices=[
        *OverrideKind.choices, ("", gettext_lazy("as the calendar's rules say"))],
        required=False, widget=forms.RadioSelect)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class CalendarForm(forms.Form):
    time_zone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64,
                                help_text=gettext_lazy("e.g. Asia/Shanghai"))
    is_24x7 = forms.BooleanField(label=gettext_lazy("Around the clock (24×7): hours and "
                                                    "holidays are not used"), required=False)
    day_start = forms.TimeField(label=gettext_lazy("Working day starts"),
                                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    day_end = forms.TimeField(label=gettext_lazy("Working day ends"),
                              widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    lunch_start = forms.TimeField(label=gettext_lazy("Lunch break starts"), required=False,
                                  widget=forms.TimeInput(attrs={"type": "time"},
                                                         format="%H:%M"))
    lunch_end = forms.TimeField(label=gettext_lazy("Lunch break ends"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    use_statutory_holidays = forms.BooleanField(
        label=gettext_lazy("Chinese public holidays and make-up working days (调休)"),
        required=False, help_text=gettext_lazy("Off: Monday to Friday are working days."))


def _confirmable(request: HttpRequest, *, change: Callable[[], int], back: str,
                 done: Callable[[int], str]) -> HttpResponse:
    """Make ``change`` at once when it moves no deadline or was confirmed; otherwise say how
    many open tickets it would move and ask."""
    if CONFIRMED not in request.POST:
        moved = services.preview(change)
        if moved:
            fields = [(name, value) for name, values in request.POST.lists()
                      if name != "csrfmiddlewaretoken" for value in values]
            return render(request, "web/manage/confirm.html", {
                "nav": "manage", "moved": moved, "fields": fields, "back": back,
                "action": request.path})
    moved = change()
    message = done(moved)
    if moved:
        message += " " + ngettext("The deadlines of %d open ticket moved.",
                                  "The deadlines of %d open tickets moved.", moved) % moved
    messages.success(request, message)
    return redirect(back)


@admin_page
def overview(request: HttpRequest) -> HttpResponse:
    policies = list(SlaPolicy.objects.select_related("module", "calendar"))
    return render(request, "web/manage/sla.html", {
        "nav": "manage", "policies": policies,
        "calendars": BusinessCalendar.objects.all(), "year": timezone.localdate().year,
    })


def _policy_page(request: HttpRequest, policy_id: int | None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=policy_id) if policy_id else None
    form = PolicyForm(request.POST or None,
                      initial=PolicyForm.initial_of(policy) if policy else None)
    if request.method == "POST" and form.is_valid():
        values, by = form.values(), person(request)

        def change() -> int:
            fresh = SlaPolicy.objects.get(pk=policy_id) if policy_id else None
            return configure.save_policy(by=by, policy=fresh, **values)[1]

        try:
            return _confirmable(
                request, change=change, back=reverse("web:manage_sla"),
                done=lambda moved: _("The policy %(name)s is saved.") % {"name": values["name"]})
        except ValidationError as exc:
            refused(form, exc)
    return render(request, "web/manage/policy.html", {
        "nav": "manage", "policy": policy, "form": form,
    }, status=422 if form.errors else 200)


@admin_page
def new_policy(request: HttpRequest) -> HttpResponse:
    return _policy_page(request, None)


@admin_page
def edit_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    return _policy_page(request, policy_id)


@admin_page
@require_POST
def delete_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    name, by = policy.name, person(request)
    return _confirmable(
        request, back=reverse("web:manage_sla"),
        change=lambda: configure.delete_policy(by=by, policy=SlaPolicy.objects.get(pk=policy_id)),
        done=lambda moved: _("The policy %(name)s is removed.") % {"name": name})


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", "")[:4])
    except ValueError:
        return timezone.localdate().year
    return min(max(year, FIRST_YEAR), LAST_YEAR)


@admin_page
def calendar_year(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    year = _year(request)
    return _calendar_page(request, calendar, year, DayForm(initial=_picked(request, calendar)))


def _calendar_form(calendar: BusinessCalendar, data: Any = None) -> CalendarForm:
    return CalendarForm(data, initial={name: getattr(calendar, name)
                                       for name in configure.CALENDAR_FIELDS})


def _picked(request: HttpRequest, calendar: BusinessCalendar) -> dict[str, Any]:
    """The day picked on the year view, with what it is now if it is an override."""
    try:
        day = date.fromisoformat(request.GET.get("day", "")[:10])
    except ValueError:
        return {}
    override = calendar.overrides.filter(date=day).first()
    return {"day": day, "kind": override.kind if override else "",
            "note": override.note if override else ""}


def _calendar_page(request: HttpRequest, calendar: BusinessCalendar, year: int,
                   form: DayForm, status: int = 200, hours: CalendarForm | None = None
                   ) -> HttpResponse:
    days = configure.year_days(calendar, year)
    months = [(MONTHS[month], _weeks(list(month_days)))
              for month, month_days in groupby(days, key=lambda d: d.day.month)]
    overrides = [d for d in days if d.kind.startswith("extra_")]
    return render(request, "web/manage/calendar.html", {
        "nav": "manage", "calendar": calendar, "year": year, "months": months,
        "weekdays": WEEKDAY_COLUMNS,
        "overrides": overrides, "form": form, "official": official_schedule_known(year),
        "hours": hours or _calendar_form(calendar),
        "worked": sum(d.worked for d in days),
        "previous": year - 1 if year > FIRST_YEAR else None,
        "next": year + 1 if year < LAST_YEAR else None,
    }, status=status)


def _weeks(days: list[configure.Day]) -> list[list[configure.Day | None]]:
    """A month's days in weeks from Monday, blank cells before the first and after the last."""
    cells: list[configure.Day | None] = [None] * days[0].day.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


@admin_page
@require_POST
def calendar_day(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    form = DayForm(request.POST)
    year = _year(request)
    if form.is_valid():
        day, kind, note = (form.cleaned_data[name] for name in ("day", "kind", "note"))
        by = person(request)
        back = f"{reverse('web:manage_calendar', args=[calendar.pk])}?year={day.year}"

        def change() -> int:
            if kind:
                return configure.set_day(by=by, calendar=calendar, day=day, kind=kind, note=note)
            return configure.clear_day(by=by, calendar=calendar, day=day)

        try:
            return _confirmable(request, change=change, back=back, done=lambda moved: _(
                "%(day)s is saved.") % {"day": day.isoformat()})
        except ValidationError as exc:
            refused(form, exc)
    return _calendar_page(request, calendar, year, form, status=422)


@admin_page
@require_POST
def calendar_hours(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    year = _year(request)
    form = _calendar_form(calendar, request.POST)
    if form.is_valid():
        values, by = dict(form.cleaned_data), person(request)

        def change() -> int:
            return configure.save_calendar(
                by=by, calendar=BusinessCalendar.objects.get(pk=calendar_id), **values)

        try:
            return _confirmable(
                request, change=change,
                back=f"{reverse('web:manage_calendar', args=[calendar.pk])}?year={year}",
                done=lambda moved: _("%(name)s is saved.") % {"name": calendar.name})
        except ValidationError as exc:
            refused(form, exc)
    return _calendar_page(request, calendar, year, DayForm(), status=422, hours=form)
