from django.contrib import admin
from django.http import HttpRequest

from opsdesk.imports.models import ImportedTicket


@admin.register(ImportedTicket)
class ImportedTicketAdmin(admin.ModelAdmin):
    """Which ticket each imported issue became. Read-only: the record is what makes a rerun
    skip the issue, and the import command is the only thing that writes it."""

    list_display = ("external_key", "system", "ticket", "file_name", "line", "imported_at")
    list_filter = ("system",)
    search_fields = ("external_key", "file_name")
    list_select_related = ("ticket",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
