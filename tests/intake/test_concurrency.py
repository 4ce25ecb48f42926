"""Two notifications of the same new fault at the same moment make one ticket: the second
sees the first's alert (unique per integration and identity) and counts a repeat."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from opsdesk.intake.alerts import deduplication
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus
from opsdesk.tickets.models import Ticket
from tests.intake.conftest import Sender
from tests.intake.payloads import CPU, DISK, notification


def test_losing_the_race_for_a_new_fault_counts_a_repeat(
    sender: Sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moment of the race, made certain: the alert another notification just committed
    is not among those this one read, so its insert hits the unique constraint."""
    first = sender.send(notification(CPU.alert()))
    real = deduplication._locked_alerts
    calls = []

    def blind_first_time(integration: Any, identities: set[str]) -> dict[str, Alert]:
        calls.append(identities)
        return {} if len(calls) == 1 else real(integration, identities)

    monkeypatch.setattr(deduplication, "_locked_alerts", blind_first_time)
    second = sender.send(notification(CPU.alert(), DISK.alert()))

    assert second["repeated"] == first["created"] and len(second["created"]) == 1
    assert Ticket.objects.count() == 2  # CPU's losing ticket rolled back with its savepoint
    assert Alert.objects.get(identity=CPU.fingerprint).occurrences == 2


# Committed for real; serialized_rollback puts back the data migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_notifications_of_one_new_fault_make_one_ticket(
    make_sender: Callable[..., Sender]
) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the in-memory SQLite test database locks tables without waiting; a file "
                    "database serialises writers (BEGIN IMMEDIATE), which bench/alert_storm.py "
                    "exercises with concurrent posts of the same faults")
    sender = make_sender()
    posts = 6
    start = threading.Barrier(posts)
    answers: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            start.wait(timeout=10)
            answers.append(Sender(sender.integration, sender.secret)
                           .post(notification(CPU.alert())).status_code)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert answers == [200] * posts
    assert Ticket.objects.count() == 1
    assert Alert.objects.get().occurrences == posts
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {
        InboundStatus.PROCESSED}
