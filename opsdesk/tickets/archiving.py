"""The archive policy: the worker archives a closed ticket OPSDESK_ARCHIVE_AFTER_DAYS days after
it was closed (0: never), by the workflow table's ``archive`` action taken as opsdesk, so that
the table's guards hold for it as for a person. The duty engineer archives one at once with
the same action. An urgent ticket or an emergency waits for its post-incident review (the
guard): it is left out here, and the reviews app tells its people once (reviews/follow_ups.py).

Each ticket is archived in its own transaction, decided again on the locked ticket (its
version): a ticket reopened meanwhile stays open, and a worker killed at any moment leaves the
rest for the next run. A run archives at most a batch, oldest closed first, so that a backlog
(the policy switched on over years of closed tickets) is worked off over the next runs
without holding up the worker's other jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from opsdesk.errors import DomainError
from opsdesk.tickets import effects, services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
BATCH = 500


def archive_due(*, now: datetime | None = None) -> int:
    """The periodic job: archive the closed tickets whose time came; how many it archived."""
    if settings.OPSDESK_ARCHIVE_AFTER_DAYS <= 0:
        return 0
    due = (closed_long_enough(now or timezone.now()).exclude(waiting_for_review())
           .order_by("closed_at", "pk").values_list("pk", "version")[:BATCH])
    return sum(_archive(ticket_id, version) for ticket_id, version in due)


def closed_long_enough(now: datetime) -> QuerySet[Ticket]:
    """The closed tickets the policy archives now, reviewed or not (0 days: none)."""
    days = settings.OPSDESK_ARCHIVE_AFTER_DAYS
    if days <= 0:
        return Ticket.objects.none()
    return Ticket.objects.filter(status=Status.CLOSED, closed_at__lte=now - timedelta(days=days))


def waiting_for_review() -> Q:
    """Tickets the table's guard keeps from the archive until their review is complete."""
    from opsdesk.reviews.selectors import has_complete_review  # built on tickets

    return effects.needing_review() & ~Q(has_complete_review())


def _archive(ticket_id: int, version: int) -> int:
    try:
        services.do_transition(ticket_id=ticket_id, action="archive", by=None, version=version)
    except DomainError as refusal:
        # Reopened or changed since it was read: the next run decides on what it is then.
        log.info("ticket %s not archived: %s", ticket_id, refusal.message)
        return 0
    return 1
