from django.contrib import admin

from opsdesk.admin_mixins import ReadOnlyAdminMixin
from opsdesk.imports.models import ImportedTicket


@admin.register(ImportedTicket)
class ImportedTicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which ticket each imported issue became. Read-only: the record is what makes a rerun
    skip the issue, and the import command is the only thing that writes it."""

    list_display = ("external_key", "system", "ticket", "file_name", "line", "imported_at")
    list_filter = ("system",)
    search_fields = ("external_key", "file_name")
    list_select_related = ("ticket",)
