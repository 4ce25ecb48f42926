"""Reads of the web workspace: saved views, and whether sign-in is throttled."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.web.models import SavedView, SignInFailure

# Failed sign-ins allowed per window: for one account, and from one address (many accounts).
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 30


def saved_views(*, owner: User) -> QuerySet[SavedView]:
    return SavedView.objects.filter(owner=owner).order_by("name")


def sign_in_blocked_until(*, username: str, address: str | None) -> datetime | None:
    """When sign-in for ``username`` (or from ``address``) opens again, or None if it is open:
    the moment the oldest of the last ``limit`` failures leaves the window."""
    recent = SignInFailure.objects.filter(at__gte=timezone.now() - SignInFailure.WINDOW)
    limits = [(Q(username=username.lower()[:150]), MAX_FAILURES_PER_USER)]
    if address:
        limits.append((Q(address=address), MAX_FAILURES_PER_ADDRESS))
    reopens = []
    for match, limit in limits:
        times = list(recent.filter(match).order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            reopens.append(min(times) + SignInFailure.WINDOW)
    return max(reopens) if reopens else None
