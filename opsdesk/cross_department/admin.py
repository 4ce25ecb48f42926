
from django.contrib import admin

from opsdesk.admin_mixins import ReadOnlyAdminMixin
from opsdesk.cross_department.models import CrossDepartmentRequest


@admin.register(CrossDepartmentRequest)
class CrossDepartmentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Filed through the form and worked on as tickets: read only here."""

    list_display = ("ticket", "department", "desired_date", "requested_by", "created_at")
    list_filter = ("department",)
    search_fields = ("department", "needed")
