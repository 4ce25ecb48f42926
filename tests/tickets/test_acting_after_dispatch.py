"""Automation acting on a ticket it may have filed a moment ago (an alert that resolves before
the worker dispatched its ticket) reads it through ``lock_dispatched``: the routing has moved it
by then, and the version it passes on is the routed ticket's, so the action is never refused as
stale (the race that answered Alertmanager's resolution with 409)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from opsdesk.accounts.models import Module, User
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import StaleVersion
from opsdesk.tickets.models import Ticket
from tests.factories import TicketFactory

REASON = {"reason": "告警已在无人响应前恢复"}


@pytest.fixture
def waiting(settings: Any, people: dict[str, User], payment: Module) -> Ticket:
    """A ticket filed, the worker not at it yet: routing will assign it (a new version)."""
    settings.OPSDESK_DISPATCH = "worker"
    ticket = TicketFactory(by=people["submitter"], module=payment.code)
    assert not ticket.dispatched
    return ticket


def dismiss(ticket_id: int, version: int) -> Ticket:
    return services.do_transition(ticket_id=ticket_id, action="dismiss", by=None,
                                  version=version, fields=REASON)


def test_a_version_read_before_the_dispatch_is_stale_once_routing_moved_the_ticket(
    waiting: Ticket,
) -> None:
    with pytest.raises(StaleVersion):
        dismiss(waiting.pk, waiting.version)
    waiting.refresh_from_db()
    assert waiting.dispatched and waiting.status == Status.ASSIGNED  # the dispatch kept


def test_automation_reading_the_ticket_through_its_dispatch_acts_on_the_routed_ticket(
    waiting: Ticket, people: dict[str, User],
) -> None:
    with transaction.atomic():
        routed = services.lock_dispatched(ticket_id=waiting.pk)
        assert routed.dispatched and routed.version > waiting.version
        assert routed.status == Status.ASSIGNED and routed.assignee == people["owner"]
        closed = dismiss(waiting.pk, routed.version)
    assert closed.status == Status.CLOSED


def test_a_ticket_already_dispatched_is_read_as_it_is(waiting: Ticket) -> None:
    with transaction.atomic():
        first = services.lock_dispatched(ticket_id=waiting.pk)
    with transaction.atomic():
        again = services.lock_dispatched(ticket_id=waiting.pk)
    assert again.version == first.version
