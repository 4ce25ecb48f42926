"""Links between tickets: the rows and their events on both tickets' timelines.

Who may link is checked by the callers (``services.link_tickets``, a ``dismiss`` naming the
original, alert intake linking a recurrence); this module only writes, inside the caller's
transaction, and tells each ticket's hooks (action ``link`` or ``unlink``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.tickets.choices import LinkKind
from opsdesk.tickets.errors import InvalidField
from opsdesk.tickets.hooks import TicketChange, run_hooks
from opsdesk.tickets.models import Ticket, TicketLink, TimelineEvent


def add(*, source: Ticket, target: Ticket, kind: LinkKind, by: User | None,
        at: datetime) -> TicketLink:
    """``source`` is ``kind`` ``target``; refused if it would link a ticket to itself or give
    the two tickets a second link of that kind, either way (models.TicketLink says why)."""
    if source.pk == target.pk:
        raise InvalidField(_("A ticket cannot be linked to itself."), field="ticket")
    existing = TicketLink.objects.filter(
        Q(source=source, target=target) | Q(source=target, target=source), kind=kind).first()
    if existing is not None:
        raise _refusal(source, target, kind, reverse=existing.source_id == target.pk)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin loses only this row
            link = TicketLink.objects.create(source=source, target=target, kind=kind,
                                             created_by=by, created_at=at)
    except IntegrityError as exc:  # linked meanwhile, one way or the other
        raise _refusal(source, target, kind, reverse=False) from exc
    _announce(link, by, at, TimelineEvent.Kind.LINKED, "link")
    return link


def _refusal(source: Ticket, target: Ticket, kind: LinkKind, *, reverse: bool) -> InvalidField:
    names = {"source": source.key, "target": target.key, "link": kind.label}
    if reverse and kind != LinkKind.RELATED_TO:
        return InvalidField(_("%(target)s is already marked %(link)s %(source)s; the reverse "
                              "cannot be true as well.") % names, field="ticket")
    return InvalidField(_("%(source)s and %(target)s are already linked that way.") % names,
                        field="ticket")


def remove(*, link: TicketLink, by: User, at: datetime) -> None:
    _announce(link, by, at, TimelineEvent.Kind.UNLINKED, "unlink")
    link.delete()


def described(link: TicketLink, direction: str) -> dict[str, Any]:
    """The link as one of its tickets records it: which way, and the other ticket's key."""
    other = link.target if direction == "outgoing" else link.source
    return {"id": link.pk, "kind": link.kind, "direction": direction, "other": other.key}


def _announce(link: TicketLink, by: User | None, at: datetime, kind: str, action: str) -> None:
    for ticket, direction in ((link.source, "outgoing"), (link.target, "incoming")):
        data = {"link": described(link, direction)}
        TimelineEvent.objects.create(ticket=ticket, kind=kind, actor=by, at=at, data=data)
        run_hooks(TicketChange(ticket, by, action, ticket.status, ticket.status, {}, at,
                               details=data))
