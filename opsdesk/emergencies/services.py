"""Every write of the emergencies app: declaring an emergency (on a ticket or as a new one)
and posting status updates. Ticket changes go through the tickets services; people are told
through notify, at once (the deliveries are queued when the transaction commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.bounds import MomentOutOfRange, check_moment
from opsdesk.emergencies import selectors
from opsdesk.emergencies.errors import AlreadyDeclared, NotAnEmergency
from opsdesk.emergencies.models import Emergency
from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.notify.models import Team
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, Impact, SourceKind, Status, Urgency
from opsdesk.tickets.errors import InvalidField, PermissionRefused, ReadOnlyTicket
from opsdesk.tickets.models import Ticket, TimelineEvent


def _require_right(user: User) -> None:
    if not selectors.may_declare(user):
        raise PermissionRefused(
            _("Only the duty engineer, module owners, the department head and people given "
              "the right may declare an emergency.")
        )


def _require_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidField(_("Say why this is an emergency."), field="reason")
    return reason.strip()


def _tell(kind: str, ticket: Ticket, people: Sequence[User | Team], key: str, by: User,
          **context: object) -> None:
    # Nobody is told about what they did themselves.
    recipients = [p for p in people if not (isinstance(p, User) and p.pk == by.pk)]
    if recipients:
        notify.notify(kind=kind, ticket=ticket, recipients=recipients, context=context,
                      dedupe_key=key, by=by)


def _declare(ticket_id: int, by: User, reason: str, *, from_scratch: bool) -> Emergency:
    ticket = tickets.declare_emergency(ticket_id=ticket_id, by=by, reason=reason)
    emergency = Emergency.objects.create(
        ticket=ticket, reason=reason, declared_by=by, declared_at=timezone.now(),
        from_scratch=from_scratch,
    )
    _tell(NotificationKind.EMERGENCY, ticket, selectors.responders(ticket, emergency.declared_at),
          f"emergency:{ticket.pk}", by, reason=reason, declared_by=str(by))
    return emergency


@transaction.atomic
def declare_on_ticket(*, ticket_id: int, by: User, reason: str) -> Emergency:
    """Declare an emergency on an open ticket: it becomes urgent, and the module owner, the
    duty engineer on shift and the department head are told at once."""
    _require_right(by)
    reason = _require_reason(reason)
    # Holding the ticket's row makes concurrent declarations take turns: the second sees the
    # first (the one-to-one column would refuse it anyway, less politely).
    list(Ticket.objects.select_for_update().filter(pk=ticket_id).values_list("pk", flat=True))
    if Emergency.objects.filter(ticket_id=ticket_id).exists():
        raise AlreadyDeclared(_("An emergency is already declared on this ticket."))
    return _declare(ticket_id, by, reason, from_scratch=False)


@transaction.atomic
def declare_new(
    *, by: User, title: str, reason: str, description: str = "", module: str | None = None,
    impact: str = Impact.ALL_USERS, urgency: str = Urgency.IMMEDIATE,
    channel: str = Channel.API,
) -> Emergency:
    """Declare an emergency nobody has filed yet: a new urgent ticket of source emergency,
    submitted by the declarer."""
    _require_right(by)
    reason = _require_reason(reason)
    ticket = tickets.create_ticket(
        by=by, submitter=by, title=title, description=description or reason, impact=impact,
        urgency=urgency, source_kind=SourceKind.EMERGENCY, channel=channel, module=module,
    )
    return _declare(ticket.pk, by, reason, from_scratch=True)


def may_post_update(user: User, ticket: Ticket) -> bool:
    return selectors.may_declare(user) or (user.pk is not None and user.pk == ticket.assignee_id)


def _next_update(moment: datetime | None, now: datetime) -> datetime | None:
    """When the next update is promised: within opsdesk's bounds (a time without an offset is
    in the caller's zone) and in the future."""
    if moment is None:
        return None
    try:
        moment = check_moment(moment)
    except MomentOutOfRange as refusal:
        raise InvalidField(str(refusal), field="next_update_at") from refusal
    if moment <= now:
        raise InvalidField(_("The next update must be in the future."), field="next_update_at")
    return moment


@transaction.atomic
def post_status_update(
    *, ticket_id: int, by: User, message: str, next_update_at: datetime | None = None,
) -> TimelineEvent:
    """Tell the emergency's stakeholders where things stand (on the timeline, for everyone who
    can see the ticket, and sent to the responders, the submitter and the watchers)."""
    emergency = (
        Emergency.objects.select_for_update(of=("self",))
        .select_related("ticket__module__owner", "ticket__submitter", "ticket__assignee")
        .filter(ticket_id=ticket_id)
        .first()
    )
    if emergency is None:
        raise NotAnEmergency(_("No emergency is declared on this ticket."))
    ticket = emergency.ticket
    if not may_post_update(by, ticket):
        raise PermissionRefused(
            _("Only the assignee and those who may declare emergencies may post status "
              "updates.")
        )
    if ticket.status == Status.ARCHIVED:  # its record is final
        raise ReadOnlyTicket(_("%(key)s is %(status)s and can no longer be changed.")
                             % {"key": ticket.key, "status": ticket.get_status_display()})
    if not message.strip():
        raise InvalidField(_("The update is empty."), field="message")
    now = timezone.now()
    next_update_at = _next_update(next_update_at, now)
    event = tickets.record_event(
        ticket=ticket, kind=TimelineEvent.Kind.STATUS_UPDATE, actor=by, at=now,
        data={"message": message.strip(),
              "next_update_at": next_update_at.isoformat() if next_update_at else None},
    )
    emergency.last_update_at, emergency.next_update_at = now, next_update_at
    emergency.save(update_fields=["last_update_at", "next_update_at"])
    context: dict[str, object] = {"message": message.strip()}
    if next_update_at is not None:
        context["next_update_at"] = next_update_at
    _tell(NotificationKind.STATUS_UPDATE, ticket, selectors.stakeholders(ticket, now),
          f"status-update:{event.pk}", by, **context)
    return event
