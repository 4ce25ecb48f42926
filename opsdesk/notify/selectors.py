"""Reads for notifications: teams, who follows a ticket, the messages a person was sent, and
their in-app list with its unread count."""

from __future__ import annotations

from django.db.models import QuerySet

from opsdesk.accounts.models import User
from opsdesk.notify.models import Delivery, Notice, Team, Watch
from opsdesk.tickets.models import Ticket


def teammate_ids(user: User) -> tuple[int, ...]:
    """Everyone who shares a team with ``user`` (``user`` included when in any team)."""
    members = Team.members.through.objects.filter(team__members=user)
    return tuple(sorted(set(members.values_list("user_id", flat=True))))


def watch_of(*, user: User, ticket: Ticket) -> Watch | None:
    """``user``'s following of ``ticket``, if they follow it."""
    return Watch.objects.filter(user=user, ticket=ticket).first()


def messages_to(*, user: User, ticket: Ticket, limit: int = 20) -> list[Delivery]:
    """The latest messages ``user`` was sent about ``ticket``, each once however many channels
    carried it, newest first."""
    rows = (Delivery.objects.filter(ticket=ticket, recipient=user)
            .only("notification_kind", "notification_key", "subject", "body", "status",
                  "next_attempt_at", "sent_at", "created_at", "language")
            .order_by("-id")[:limit * 3])
    seen: set[tuple[str, str]] = set()
    found = []
    for row in rows:
        if (row.notification_key, row.notification_kind) not in seen:
            seen.add((row.notification_key, row.notification_kind))
            found.append(row)
    return found[:limit]


def notices_of(*, user: User, before: int | None = None, limit: int = 50) -> list[Notice]:
    """``user``'s in-app notifications, newest first, those older than the notice ``before``
    when paging on."""
    rows: QuerySet[Notice] = (Notice.objects.filter(recipient=user)
                              .select_related("ticket", "actor").order_by("-id"))
    if before is not None:
        rows = rows.filter(id__lt=before)
    return list(rows[:limit])


def notice_of(*, user: User, notice_id: int) -> Notice | None:
    """One of ``user``'s in-app notifications (None for another person's)."""
    return Notice.objects.filter(recipient=user, pk=notice_id).select_related("ticket").first()


def unread_count(*, user: User) -> int:
    """How many of ``user``'s in-app notifications are unread."""
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()
