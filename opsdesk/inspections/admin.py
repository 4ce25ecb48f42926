from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opsdesk.admin_mixins import ReadOnlyAdminMixin
from opsdesk.inspections import services
from opsdesk.inspections.models import InspectionItem, InspectionPlan, InspectionRun


class InspectionItemInline(admin.TabularInline):
    model = InspectionItem
    extra = 1
    fields = ("order", "title", "guidance")


@admin.register(InspectionPlan)
class InspectionPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "module", "owner", "schedule", "time_zone", "active", "next_due_at")
    list_filter = ("active", "module")
    search_fields = ("name",)
    autocomplete_fields = ("owner",)
    readonly_fields = ("next_due_at",)
    inlines = (InspectionItemInline,)

    def save_model(self, request: HttpRequest, obj: InspectionPlan, form: Any,
                   change: bool) -> None:
        super().save_model(request, obj, form, change)
        timing = {"schedule", "time_zone", "active"}
        if not change or timing & set(form.changed_data):
            services.refresh_schedule(plan=obj)


@admin.register(InspectionRun)
class InspectionRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Runs are created by the schedule and recorded through the API and the UI: read only."""

    list_display = ("plan", "due_at", "status", "started_by", "finished_at")
    list_filter = ("status", "plan")
    date_hierarchy = "due_at"
