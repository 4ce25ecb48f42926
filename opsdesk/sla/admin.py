from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.sla.calendars import last_official_year
from opsdesk.sla.models import BusinessCalendar, CalendarOverride


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
