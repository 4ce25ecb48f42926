"""The ticket page's post-incident review card: for department staff, the review (a form
while it is a draft, its text once complete), its action items, and on an urgent ticket or
an emergency without a complete review, that archiving waits for it."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from opsdesk.accounts.roles import STAFF_ROLES
from opsdesk.accounts.selectors import people_with_roles
from opsdesk.reviews import selectors
from opsdesk.tickets.choices import Status
from opsdesk.tickets.effects import needs_review
from opsdesk.tickets.models import Ticket

register = template.Library()
# Where a review is written: once the fix is being verified, and after.
WRITTEN_FROM = frozenset({Status.AWAITING_VERIFICATION, Status.CLOSED})


@register.inclusion_tag("reviews/ticket_card.html", takes_context=True)
def review_card(context: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    user = context["request"].user
    if not selectors.may_read(user, ticket):
        return {"shown": False}
    review = selectors.review_of(ticket)
    required = needs_review(ticket)
    archived = ticket.status == Status.ARCHIVED
    if review is None and (archived or not (required or ticket.status in WRITTEN_FROM)):
        return {"shown": False}
    draft = review is not None and not review.is_complete and not archived
    problem = context.get("review_problem") or ("", "")
    now = timezone.now()
    items = list(review.action_items.all()) if review else []
    return {
        "shown": True, "ticket": ticket, "review": review, "required": required,
        "draft": draft, "may_start": review is None and not archived,
        "may_complete": draft and selectors.may_complete(user, ticket)
        and ticket.status == Status.CLOSED,
        "items": [(item, item.done_at is None and item.due_at <= now,
                   review is not None and selectors.may_mark(user, item, ticket))
                  for item in items],
        "owners": [(u, name) for u, name, _roles in people_with_roles(STAFF_ROLES)]
        if draft else [],
        "problem": problem[0], "problem_message": problem[1],
        "posted": context.get("review_posted") or {},
        "csrf_token": context.get("csrf_token"),
    }
