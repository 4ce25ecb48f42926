"""Reads for cross-department requests."""

from __future__ import annotations

from opsdesk.cross_department.models import CrossDepartmentRequest
from opsdesk.tickets.models import Ticket


def request_for_ticket(ticket: Ticket) -> CrossDepartmentRequest | None:
    """The request form behind ``ticket``, if it came from one (the caller checked that the
    reader may see the ticket)."""
    return CrossDepartmentRequest.objects.filter(ticket=ticket).first()
