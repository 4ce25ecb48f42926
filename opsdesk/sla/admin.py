from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk.sla import services
from opsdesk.sla.calendars import last_official_year
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, SlaPolicy


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    extra = 1
    fields = ("date", "kind", "note")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
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


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "calendar", "note")
    list_filter = ("calendar", "kind")
    date_hierarchy = "date"


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "enabled", "priority", "source_kind", "module",
                    "response_target", "resolution_target", "calendar")
    list_display_links = ("name",)
    list_editable = ("order", "enabled")

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            moved = services.recompute_for_policy(policy=obj)
            self.message_user(
                request, gettext("Deadlines recomputed for %d open tickets.") % moved
            )
