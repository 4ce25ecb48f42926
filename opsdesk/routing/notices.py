"""What routing itself tells people when it dispatches new tickets: the duty engineer of those
no rule could assign, and each engineer a rule assigned one to. Everything else about who
hears what is decided in notify/conversation.py."""

from __future__ import annotations

from collections.abc import Sequence

from opsdesk.accounts.models import User
from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.notify.conversation import change_key
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import RuleAssignment


def triage_needed(waiting: Sequence[Ticket], *, duty: User | None) -> None:
    """New tickets no rule could assign wait for the duty engineer on shift."""
    if duty is not None:
        notify.tell(kind=NotificationKind.TRIAGE_NEEDED, notifications=[
            notify.Notification(ticket, [duty], f"triage:{ticket.pk}") for ticket in waiting])


def assigned_by_rules(assignments: Sequence[RuleAssignment]) -> None:
    """Each engineer a routing rule gave a new ticket to hears about it."""
    if assignments:
        notify.tell(kind=NotificationKind.ASSIGNED, notifications=[
            notify.Notification(a.ticket, [a.assignee], change_key("triage", a.ticket))
            for a in assignments])
