"""The admin's pages for business calendars, their overrides and SLA policies.

Every save and delete moves the deadlines of the open tickets it touches (``services``), in
the same transaction. When it would move any, the admin first sees how many and confirms: the
save is made, counted and rolled back, then made again once confirmed. A delete is counted only
when the admin asks (a POST): counting holds the database's write lock as long as the change
itself, seconds with many open tickets, which no page view may do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opsdesk.runtime import config
from opsdesk.sla import services
from opsdesk.sla.calendars import last_official_year
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, SlaPolicy

CONFIRMED = "_sla_confirmed"
PREVIEW = "_sla_preview"  # posted by the delete page's "count them"
_MOVED = "_sla_moved"  # set on the request by the save: how many deadlines it moved


# Raised from inside the admin's transaction to roll a save back and ask first.
class DeadlinesWouldMove(Exception):
    def __init__(self, moved: int) -> None:
        super().__init__(moved)
        self.moved = moved


class ConfirmMovedDeadlines(admin.ModelAdmin):  # type: ignore[type-arg]
    """A change form that asks before a save moves deadlines, and a delete page that says how
    many a delete would move."""

    actions = None  # a bulk delete would skip both the count and the confirmation
    change_form_template = "admin/sla/change_form.html"
    delete_confirmation_template = "admin/sla/delete_confirmation.html"

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None
                        ) -> HttpResponse:
        if request.method != "POST" or CONFIRMED in request.POST:
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with config.one_read():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DeadlinesWouldMove as preview:
            config.clear()  # values read inside were tagged with a generation never committed
            fields = [(name, value) for name, values in request.POST.lists()
                      if name != "csrfmiddlewaretoken" for value in values]
            return TemplateResponse(request, "admin/sla/confirm_moved_deadlines.html", {
                **self.admin_site.each_context(request), "opts": self.opts,
                "title": _("Move the deadlines of open tickets?"), "moved": preview.moved,
                "fields": fields,
            })

    def response_add(self, request: HttpRequest, obj: Any,
                     post_url_continue: str | None = None) -> HttpResponse:
        self._confirm(request)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        self._confirm(request)
        return super().response_change(request, obj)

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST" and PREVIEW in request.POST:
            obj = self.get_object(request, object_id)
            if obj is not None and self.has_delete_permission(request, obj):
                try:
                    moved = services.preview(lambda: self._delete(obj))
                except ProtectedError:
                    moved = 0  # the page says what protects it; nothing can be deleted
                extra_context = {**(extra_context or {}), "moved": moved}
            # The page again, with the count: Django's delete view deletes on any POST.
            request.method, request.POST = "GET", QueryDict()
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._say_moved(request, self._delete(obj))

    def _delete(self, obj: Any) -> int:
        obj.delete()
        return self.moved_by_deletion(obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # a calendar's overrides too
        setattr(request, _MOVED, self.moved_by_save(form, formsets))

    # How many deadlines the save of ``form`` (and its inline ``formsets``), or the deletion of
    # ``obj``, moved, moving them.
    moved_by_save: Callable[[Any, Any], int]
    moved_by_deletion: Callable[[Any], int]

    def _confirm(self, request: HttpRequest) -> None:
        moved = getattr(request, _MOVED, 0)
        if moved and CONFIRMED not in request.POST:
            raise DeadlinesWouldMove(moved)
        self._say_moved(request, moved)

    def _say_moved(self, request: HttpRequest, moved: int) -> None:
        if moved:
            self.message_user(request, ngettext(
                "The deadlines of %d open ticket moved.",
                "The deadlines of %d open tickets moved.", moved) % moved)


class CalendarOverrideInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CalendarOverride
    extra = 1
    fields = ("date", "kind", "note")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ConfirmMovedDeadlines):
    list_display = (
        "name", "time_zone", "is_24x7", "day_start", "day_end", "use_statutory_holidays"
    )
    search_fields = ("name",)
    readonly_fields = ("official_schedule",)
    inlines = (CalendarOverrideInline,)

    @admin.display(description=_("official schedule known"))
    def official_schedule(self, obj: BusinessCalendar | None = None) -> str:
        # Tells the admin from which year the make-up working days must be entered by hand.
        last = last_official_year(timezone.localdate())
        if last is None:
            return str(_("Not for this year: enter its holidays and 调休 as overrides."))
        return str(
            _("Up to %(year)s; enter later years' holidays and 调休 as overrides.") % {"year": last}
        )

    def moved_by_save(self, form: Any, formsets: Any) -> int:
        changed = [f for formset in formsets for f in formset.forms
                   if f.has_changed() or f in formset.deleted_forms]
        if not form.has_changed() and not changed:
            return 0
        # Only overrides changed: the clocks counting no further than the earliest are left.
        dates = [d for f in changed
                 for d in (f.initial.get("date"), f.cleaned_data.get("date")) if d]
        since = min(dates) if dates and not form.has_changed() else None
        return services.apply_calendar_change(calendar=form.instance, since=since)

    def moved_by_deletion(self, obj: BusinessCalendar) -> int:
        return 0  # no clock used it: clocks and policies protect their calendar


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(ConfirmMovedDeadlines):
    list_display = ("date", "kind", "calendar", "note")
    list_filter = ("calendar", "kind")
    date_hierarchy = "date"

    def moved_by_save(self, form: Any, formsets: Any) -> int:
        # An override moved to another date or calendar changes both.
        obj = form.instance
        since = min(d for d in (obj.date, form.initial.get("date")) if d)
        calendars = {obj.calendar_id, form.initial.get("calendar") or obj.calendar_id}
        return sum(services.apply_calendar_change(calendar=calendar, since=since)
                   for calendar in BusinessCalendar.objects.filter(pk__in=calendars))

    def moved_by_deletion(self, obj: CalendarOverride) -> int:
        return services.apply_calendar_change(calendar=obj.calendar, since=obj.date)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ConfirmMovedDeadlines):
    list_display = ("order", "name", "enabled", "priority", "source_kind", "module",
                    "response_target", "resolution_target", "calendar")
    list_display_links = ("name",)
    fields = ("name", "order", "enabled", ("priority", "source_kind", "module"),
              ("response_amount", "response_unit"), ("resolution_amount", "resolution_unit"),
              "calendar", "warning_fraction")

    @admin.display(description=_("response target"))
    def response_target(self, obj: SlaPolicy) -> str:
        return str(obj.response)  # as entered: "15 minutes", "3 business days"

    @admin.display(description=_("resolution target"))
    def resolution_target(self, obj: SlaPolicy) -> str:
        return str(obj.resolution)

    def moved_by_save(self, form: Any, formsets: Any) -> int:
        return services.apply_policy_change()

    def moved_by_deletion(self, obj: SlaPolicy) -> int:
        return services.apply_policy_change()
