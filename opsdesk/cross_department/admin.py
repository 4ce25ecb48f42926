from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opsdesk.cross_department.models import CrossDepartmentRequest


@admin.register(CrossDepartmentRequest)
class CrossDepartmentRequestAdmin(admin.ModelAdmin):
    """Filed through the form and worked on as tickets: read only here."""

    list_display = ("ticket", "department", "desired_date", "requested_by", "created_at")
    list_filter = ("department",)
    search_fields = ("department", "needed")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
