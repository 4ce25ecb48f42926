"""What admin classes share: a record that only services write (tickets, runs, deliveries,
imports) is shown in the admin, never added, changed or deleted there."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Put before ``admin.ModelAdmin``: the admin shows the records, and writes none of them.
    Actions that write take a permission of their own (see notify's DeliveryAdmin)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
