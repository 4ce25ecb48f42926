"""What the workspace and the portal show of a search result beyond its row."""

from __future__ import annotations

from opsdesk.knowledge.highlight import labelled
from opsdesk.tickets.models import Ticket


def with_hits(tickets: list[Ticket]) -> list[Ticket]:
    """``tickets``, each of a search given ``hit_lines``: (field, marked snippet) where it
    matched, for the line under its row."""
    for ticket in tickets:
        ticket.hit_lines = labelled(getattr(ticket, "highlights", None) or {})  # type: ignore[attr-defined]
    return tickets
