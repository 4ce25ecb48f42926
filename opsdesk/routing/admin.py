from django.contrib import admin

from opsdesk.routing.models import DutyShift, RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "enabled", "priorities", "source_kinds", "assign_to", "user")
    list_display_links = ("name",)
    list_editable = ("order", "enabled")
    filter_horizontal = ("modules",)
    autocomplete_fields = ("user",)


@admin.register(DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "ends_at", "engineer", "backup")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("engineer", "backup")
