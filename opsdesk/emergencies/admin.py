from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opsdesk.admin_mixins import ReadOnlyAdminMixin
from opsdesk.emergencies.models import Emergency, EmergencySettings


@admin.register(EmergencySettings)
class EmergencySettingsAdmin(admin.ModelAdmin):
    """One row: who may declare, who watches."""

    list_display = ("__str__", "declaring_roles", "watchers_team")
    filter_horizontal = ("watchers",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not EmergencySettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Emergency)
class EmergencyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Declared through the API and the UI, with their events on the ticket: read only."""

    list_display = ("ticket", "declared_by", "declared_at", "from_scratch", "next_update_at")
    date_hierarchy = "declared_at"
