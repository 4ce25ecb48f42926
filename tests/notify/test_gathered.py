"""Notifications gathered while new tickets are dispatched: what routing tells the assignee or
the duty engineer and the submitters' receipts are written together, once the creation hooks
have all run, each kind as it would have been alone; a failure writes none of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from opsdesk.accounts.models import User
from opsdesk.notify.models import Delivery, Notice
from opsdesk.notify.services import Notification, gathered, tell
from opsdesk.tickets.dispatch import dispatch_due
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.factories import TicketFactory, payment_module


def told(ticket: Ticket, reader: User, key: str) -> dict[str, Any]:
    return {"kind": "escalated", "notifications": [
        Notification(ticket, [reader], key, {"reason": "磁盘满了"})]}


def test_tell_outside_a_gathering_writes_at_once(
    people: dict[str, User], ticket: Ticket,
) -> None:
    tell(**told(ticket, people["owner"], "escalated:a"))
    assert Delivery.objects.filter(notification_key="escalated:a").count() == 1


def test_a_gathering_writes_everything_it_was_told_when_it_ends(
    people: dict[str, User], ticket: Ticket,
) -> None:
    with gathered():
        tell(**told(ticket, people["owner"], "escalated:a"))
        tell(kind="triage_needed", notifications=[
            Notification(ticket, [people["duty"]], "triage:a")])
        assert not Delivery.objects.exists()  # nothing yet
    assert {(d.notification_kind, d.recipient_id) for d in Delivery.objects.all()} == {
        ("escalated", people["owner"].pk), ("triage_needed", people["duty"].pk)}
    keys = {"escalated:a", "triage:a"}
    events = TimelineEvent.objects.filter(ticket=ticket, kind=TimelineEvent.Kind.NOTIFICATION)
    assert sorted(e.data["notification"] for e in events if e.data["key"] in keys) == [
        "escalated", "triage_needed"]
    assert Notice.objects.filter(ticket=ticket, key__in=keys).count() == 2


def test_a_gathering_that_fails_writes_nothing_and_ends(
    people: dict[str, User], ticket: Ticket,
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic(), gathered():
        tell(**told(ticket, people["owner"], "escalated:a"))
        raise RuntimeError("a later hook failed")
    assert not Delivery.objects.exists()
    tell(**told(ticket, people["owner"], "escalated:b"))  # the gathering is over
    assert Delivery.objects.filter(notification_key="escalated:b").count() == 1


@pytest.mark.django_db
def test_dispatching_a_batch_writes_its_deliveries_in_one_statement(
    people: dict[str, User], settings: Any,
) -> None:
    """Five new tickets, some routed to the module's owner and some left for the duty
    engineer, each submitter told it was received: one INSERT of deliveries for them all."""
    settings.OPSDESK_DISPATCH = "worker"
    payment = payment_module(people["owner"])
    for number in range(5):
        TicketFactory(by=people["submitter"], title=f"支付失败 {number}",
                      module=payment if number % 2 else None)
    with CaptureQueriesContext(connection) as queries:
        assert dispatch_due(5) == 5
    inserts = [q["sql"] for q in queries.captured_queries
               if 'INTO "notify_delivery"' in q["sql"]]
    assert len(inserts) == 1
    kinds = set(Delivery.objects.values_list("notification_kind", flat=True))
    assert {"received"} < kinds
    assert kinds & {"assigned", "triage_needed"}
    for ticket in Ticket.objects.all():
        assert Delivery.objects.filter(ticket=ticket, notification_kind="received").count() == 1
