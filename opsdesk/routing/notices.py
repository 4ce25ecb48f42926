"""Who hears about workflow events: the new assignee, the department head for approvals and
escalations, and the duty engineer for tickets to triage and for escalations out of hours."""

from __future__ import annotations

from collections.abc import Sequence

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.routing.selectors import duty_engineer_at
from opsdesk.sla.selectors import is_business_moment
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import RuleAssignment


def heads() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.HEAD))


def on_ticket_change(change: TicketChange) -> None:
    """Hook: notify the people each workflow event concerns (once per ticket version)."""
    ticket, key = change.ticket, change_key(change.action, change.ticket)
    if change.action in ("triage", "reassign") and "assignee" in change.changed:
        _send(NotificationKind.ASSIGNED, ticket, [ticket.assignee], key, change.actor)
    elif change.action == "propose_plan" and change.target == Status.AWAITING_APPROVAL:
        _send(NotificationKind.APPROVAL_REQUESTED, ticket, heads(), key, change.actor)
    elif change.action == "escalate":
        people: list[User | None] = list(heads())
        if not is_business_moment(change.at):
            people.append(duty_engineer_at(change.at))
        reason = _latest_reason(ticket)
        _send(NotificationKind.ESCALATED, ticket, people, key, change.actor, reason=reason)


def change_key(action: str, ticket: Ticket) -> str:
    """Names the notification of one workflow change (once per ticket version)."""
    return f"{action}:{ticket.pk}:{ticket.version}"


def triage_needed(waiting: Sequence[Ticket], *, duty: User | None) -> None:
    """New tickets no rule could assign wait for the duty engineer on shift."""
    if duty is not None:
        notify.notify_each(kind=NotificationKind.TRIAGE_NEEDED, notifications=[
            notify.Notification(ticket, [duty], f"triage:{ticket.pk}") for ticket in waiting])


def assigned_by_rules(assignments: Sequence[RuleAssignment]) -> None:
    """Each engineer a routing rule gave a new ticket to hears about it."""
    if assignments:
        notify.notify_each(kind=NotificationKind.ASSIGNED, notifications=[
            notify.Notification(a.ticket, [a.assignee], change_key("triage", a.ticket))
            for a in assignments])


def _send(kind: str, ticket: Ticket, people: Sequence[User | None], key: str, actor: User | None,
          **context: object) -> None:
    # Nobody is told about what they did themselves.
    recipients = [p for p in people if p is not None and (actor is None or p.pk != actor.pk)]
    if recipients:
        notify.notify(kind=kind, ticket=ticket, recipients=recipients, context=context,
                      dedupe_key=key, by=actor)


def _latest_reason(ticket: Ticket) -> str:
    event = ticket.timeline.filter(data__action="escalate").order_by("-id").first()
    return str(event.data.get("reason", "")) if event else ""

