"""What the worker follows up for reviews: the closed tickets the archive policy holds back
for their missing review (their assignee and the duty engineer are told once), and the action
items (their owner reminded a day before one is due, and told with the ticket's assignee once
it is overdue). Each notice is marked in the transaction that sends it, so that a rerun or a
worker killed midway sends nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.reviews.models import ActionItem, ArchiveHeld
from opsdesk.routing.selectors import duty_engineer_at
from opsdesk.tickets.archiving import closed_long_enough, waiting_for_review

BATCH = 200
REMIND_BEFORE = timedelta(days=1)


def follow_up(*, now: datetime | None = None) -> int:
    """The periodic job: every notice due now; how many it sent."""
    now = now or timezone.now()
    return tell_held_back(now=now) + remind_action_items(now=now)


def tell_held_back(*, now: datetime) -> int:
    """Tell the people of each ticket the policy would archive but for its review, once."""
    held = (closed_long_enough(now).filter(waiting_for_review())
            .exclude(Exists(ArchiveHeld.objects.filter(ticket=OuterRef("pk"))))
            .select_related("assignee").order_by("closed_at", "pk")[:BATCH])
    told = 0
    for ticket in held:
        with transaction.atomic():
            _, created = ArchiveHeld.objects.get_or_create(ticket=ticket,
                                                           defaults={"told_at": now})
            if not created:
                continue
            notify.notify(kind=NotificationKind.REVIEW_NEEDED, ticket=ticket,
                          recipients=[ticket.assignee, duty_engineer_at(now)],
                          context={"days": settings.OPSDESK_ARCHIVE_AFTER_DAYS},
                          dedupe_key=f"review-needed:{ticket.pk}")
            told += 1
    return told


def remind_action_items(*, now: datetime) -> int:
    """Remind the owners of open items due within a day, and tell them and the ticket's
    assignee of those overdue; each once."""
    sent = 0
    overdue = (ActionItem.objects.filter(done_at__isnull=True, overdue_told_at__isnull=True,
                                         due_at__lte=now)
               .select_related("owner", "review__ticket__assignee").order_by("due_at")[:BATCH])
    for item in overdue:
        sent += _tell(item, NotificationKind.ACTION_ITEM_OVERDUE, "overdue_told_at", now,
                      [item.owner, item.review.ticket.assignee])
    soon = (ActionItem.objects.filter(done_at__isnull=True, reminded_at__isnull=True,
                                      overdue_told_at__isnull=True,
                                      due_at__lte=now + REMIND_BEFORE)
            .select_related("owner", "review__ticket").order_by("due_at")[:BATCH])
    for item in soon:
        sent += _tell(item, NotificationKind.ACTION_ITEM_DUE, "reminded_at", now, [item.owner])
    return sent


def _tell(item: ActionItem, kind: str, mark: str, now: datetime, people: list) -> int:
    with transaction.atomic():
        # Marked only if nobody marked it (or finished the item) meanwhile.
        if not ActionItem.objects.filter(pk=item.pk, done_at__isnull=True,
                                         **{f"{mark}__isnull": True}).update(**{mark: now}):
            return 0
        notify.notify(kind=kind, ticket=item.review.ticket, recipients=people,
                      context={"action": item.title, "due_at": item.due_at,
                               "owner": str(item.owner)},
                      dedupe_key=f"{kind}:{item.pk}")
    return 1
