"""Reads of the web workspace: saved views."""

from __future__ import annotations

from django.db.models import QuerySet

from opsdesk.accounts.models import User
from opsdesk.web.models import SavedView


def saved_views(*, owner: User) -> QuerySet[SavedView]:
    return SavedView.objects.filter(owner=owner).order_by("name")
