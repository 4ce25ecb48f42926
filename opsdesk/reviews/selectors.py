"""Reads of reviews and action items, and who may do what with them.

Reviews are the department's: department staff who may read the ticket read its review and
write it while it is a draft; the assignee, the duty engineer and the head complete it (those
who archive). An action item is marked done by its owner or by those who complete reviews."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.reviews.models import ActionItem, Review
from opsdesk.tickets import policy
from opsdesk.tickets.errors import NotFound, PermissionRefused
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.workflow import Actor, Party

COMPLETERS: frozenset[Actor] = frozenset({Party.ASSIGNEE, Role.DUTY, Role.HEAD})


def review_state(*, ticket_id: int) -> str | None:
    """"complete", "draft", or None when the ticket has no review."""
    completed = (Review.objects.filter(ticket_id=ticket_id)
                 .values_list("completed_at", flat=True).first())
    if completed is None:
        return "draft" if Review.objects.filter(ticket_id=ticket_id).exists() else None
    return "complete"


def has_complete_review() -> Exists:
    """For a query of tickets: the ticket's review is complete."""
    return Exists(Review.objects.filter(ticket=OuterRef("pk"), completed_at__isnull=False))


def may_read(user: User, ticket: Ticket) -> bool:
    return user.is_department_staff and policy.can_view(user, ticket)


def require_read(user: User, ticket: Ticket) -> None:
    if not policy.can_view(user, ticket):
        raise NotFound(_("No such ticket."))
    if not user.is_department_staff:
        raise PermissionRefused(_("Post-incident reviews are for department staff."))


def may_complete(user: User, ticket: Ticket) -> bool:
    return policy.is_one_of(user, ticket, COMPLETERS)


def may_mark(user: User, item: ActionItem, ticket: Ticket) -> bool:
    return item.owner_id == user.pk or may_complete(user, ticket)


def review_of(ticket: Ticket) -> Review | None:
    """The ticket's review with its people and action items, or None."""
    return (Review.objects.select_related("author", "completed_by")
            .prefetch_related("action_items__owner", "action_items__done_by")
            .filter(ticket=ticket).first())


def reviews_of(ticket_ids: list[int]) -> dict[int, Review]:
    """The reviews of these tickets by ticket id, with their action items' owners (an
    export's): a query per 500 tickets."""
    found: dict[int, Review] = {}
    for start in range(0, len(ticket_ids), 500):
        found.update({r.ticket_id: r for r in Review.objects.filter(
            ticket_id__in=ticket_ids[start:start + 500]).prefetch_related(
            "action_items__owner")})
    return found


def open_action_items(*, owner: User) -> QuerySet[ActionItem]:
    """``owner``'s action items not done yet, soonest due first, with their tickets."""
    return (ActionItem.objects.filter(owner=owner, done_at__isnull=True)
            .select_related("review__ticket", "owner", "done_by").order_by("due_at", "id"))
