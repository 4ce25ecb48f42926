from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opsdesk.knowledge.models import SearchTerm
from opsdesk.knowledge.tasks import rebuild_search_index


@admin.register(SearchTerm)
class SearchTermAdmin(admin.ModelAdmin):
    list_display = ("word", "note", "created_at")
    search_fields = ("word", "note")
    actions = ("resegment_archive",)

    def save_model(self, request: HttpRequest, obj: SearchTerm, form: object,
                   change: bool) -> None:
        super().save_model(request, obj, form, change)
        messages.info(request, _(
            "Tickets written from now on are segmented with this word. Tickets filed before "
            "are found by it once the archive is re-segmented: choose the action "
            "“Re-segment every ticket with the current dictionary” in the list, or run "
            "opsdesk reindex."))

    @admin.action(description=_("Re-segment every ticket with the current dictionary"))
    def resegment_archive(self, request: HttpRequest, queryset: QuerySet[SearchTerm]) -> None:
        rebuild_search_index.enqueue()
        messages.success(request, _(
            "The archive is being re-segmented in the background; searches keep working "
            "meanwhile."))
