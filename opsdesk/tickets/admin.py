"""Admin for tickets: read-mostly. Workflow changes go through the services (API and UI), so
the admin cannot bypass the procedure or rewrite the timeline."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opsdesk.admin_mixins import ReadOnlyAdminMixin
from opsdesk.tickets.models import PriorityRule, SupportRating, Ticket, TimelineEvent


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "data", "internal")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "title", "status", "priority", "assignee", "module", "submitted_at")
    list_filter = ("status", "priority", "source_kind", "channel", "module")
    search_fields = ("title", "description", "submitter_name")
    list_select_related = ("assignee", "module")
    inlines = (TimelineInline,)


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)
    list_filter = ("impact",)


@admin.register(SupportRating)
class SupportRatingAdmin(admin.ModelAdmin):
    """Submitters' ratings, to read: they are given on the ticket page, once, by the
    submitter, and recorded on the timeline."""

    list_display = ("ticket", "score", "rated_by", "created_at")
    list_filter = ("score",)
    list_select_related = ("ticket", "rated_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
