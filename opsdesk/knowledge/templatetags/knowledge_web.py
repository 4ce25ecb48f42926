"""The ticket page's knowledge cards: the similar closed problems and articles while staff
analyse and plan the ticket, and the articles linked to it (with "write an article" once it
is closed with its resolution report)."""

from __future__ import annotations

from typing import Any

from django import template

from opsdesk.knowledge import selectors
from opsdesk.knowledge.policy import may_write_articles
from opsdesk.knowledge.services import WRITTEN_FROM
from opsdesk.knowledge.similar import Problem, similar_articles, similar_tickets
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket

register = template.Library()

# While the problem is understood and a fix is chosen: when an earlier fix helps most.
ANALYSIS = frozenset({Status.NEW, Status.ASSIGNED, Status.ANALYSING, Status.PLANNING})


@register.inclusion_tag("web/knowledge/ticket_cards.html", takes_context=True)
def knowledge_cards(context: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    user = context["request"].user
    staff = user.is_department_staff
    analysing = staff and ticket.status in ANALYSIS
    problem = Problem.of_ticket(ticket)
    links = selectors.articles_of_ticket(user=user, ticket=ticket)
    written = any(link.source for link in links)
    return {
        "ticket": ticket, "staff": staff, "analysing": analysing,
        "similar": similar_tickets(user=user, problem=problem, exclude=ticket.pk)
        if analysing else [],
        "similar_articles": similar_articles(problem=problem) if analysing else [],
        "links": links,
        "may_write": (may_write_articles(user) and ticket.status in WRITTEN_FROM
                      and bool(ticket.cause and ticket.solution) and not written),
        "csrf_token": context.get("csrf_token"),
    }
