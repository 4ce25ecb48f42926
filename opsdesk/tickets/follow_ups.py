"""What the worker follows up on its own, through the workflow table's opsdesk-only actions:

- a fix waiting for verification: a reminder to the submitter after each full working day of
  the ticket's SLA calendar, then, after OPSDESK_VERIFICATION_DAYS, ``auto_close`` with a note;
- a ticket past its deadline: ``request_progress`` asks the assignee for the next step and the
  expected completion time, once per moment that passed.

Each follow-up is one action in its own transaction, decided again on the locked ticket, and
leaves its mark on the ticket (a reminder count and the moment of the next follow-up, the
moment asked about) in that transaction: a worker killed at any moment never sends one twice,
and the next run finds what is left. Each run reads only the tickets due, so a backlog larger
than a batch is worked off over the next runs, oldest due first.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from opsdesk.bounds import EARLIEST
from opsdesk.errors import DomainError
from opsdesk.tickets import services, workflow
from opsdesk.tickets.choices import Status
from opsdesk.tickets.effects import (
    next_verification_follow_up,
    progress_due,
    working_days_waiting,
)
from opsdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
# Tickets decided per run and kind: a backlog (a worker that was down for days) is worked off
# over the next runs instead of in one long stretch of write transactions.
BATCH = 200


def follow_up(*, now: datetime | None = None) -> int:
    """The periodic job: every follow-up due now; how many actions it took."""
    now = now or timezone.now()
    return follow_up_verifications(now=now) + request_overdue_progress(now=now)


def follow_up_verifications(*, now: datetime) -> int:
    """Remind or close the fixes waiting for verification whose next follow-up is due (the
    moment each action keeps on the ticket), earliest first."""
    days = settings.OPSDESK_VERIFICATION_DAYS
    due = (Ticket.objects.filter(status=Status.AWAITING_VERIFICATION, next_follow_up_at__lte=now)
           .order_by("next_follow_up_at")
           .only("pk", "verification_requested_at", "verification_reminders",
                 "next_follow_up_at")[:BATCH])
    taken = 0
    for ticket in due:
        whole_days = working_days_waiting(ticket, now)
        if whole_days >= days:
            taken += _take(ticket.pk, "auto_close", now)
        elif whole_days > ticket.verification_reminders:
            taken += _take(ticket.pk, "remind_verification", now)
        else:
            _reschedule(ticket)
    return taken


def _reschedule(ticket: Ticket) -> None:
    """Nothing is due yet after all (a holiday entered since, a fix waiting from before the
    moment was kept): keep the moment it will be, unless an action moved it meanwhile."""
    Ticket.objects.filter(pk=ticket.pk, next_follow_up_at=ticket.next_follow_up_at).update(
        next_follow_up_at=next_verification_follow_up(ticket))


def request_overdue_progress(*, now: datetime) -> int:
    """Ask for progress on the tickets under way whose due moment passed and was not asked
    about yet. The due moment is computed in the query as ``effects.progress_due`` does."""
    never = Value(EARLIEST, output_field=DateTimeField())
    deadline = Coalesce(F("deadline_at"), F("sla_clock__resolution_due_at"), never)
    due = Greatest(deadline, Coalesce(F("expected_completion_at"), never))
    overdue = (Ticket.objects.filter(status__in=workflow.UNDER_WAY)
               .annotate(due=due).filter(due__gt=EARLIEST, due__lte=now)
               .filter(Q(progress_requested_for__isnull=True)
                       | Q(progress_requested_for__lt=F("due")))
               .order_by("due").values_list("pk", flat=True)[:BATCH])
    return sum(_take(ticket_id, "request_progress", now) for ticket_id in overdue)


def _take(ticket_id: int, action: str, now: datetime) -> int:
    """Take ``action`` as opsdesk if it is still due on the ticket as read now; the action
    itself refuses it if the ticket changed since (its version): 1 if taken."""
    try:
        ticket = Ticket.objects.get(pk=ticket_id)
        if not _still_due(ticket, action, now):
            return 0
        services.do_transition(ticket_id=ticket_id, action=action, by=None,
                               version=ticket.version)
    except DomainError as refusal:
        # Someone acted on the ticket in the meantime (a new version, another state): the
        # next run decides again on what it is then.
        log.info("follow-up %s of ticket %s not taken: %s", action, ticket_id, refusal.message)
        return 0
    return 1


def _still_due(ticket: Ticket, action: str, now: datetime) -> bool:
    if action == "request_progress":
        due = progress_due(ticket)
        return due is not None and due <= now and (
            ticket.progress_requested_for is None or ticket.progress_requested_for < due)
    return ticket.status == Status.AWAITING_VERIFICATION
