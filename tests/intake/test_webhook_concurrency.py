"""Two deliveries of one report at the same moment make one ticket: the second finds the
first's idempotency key (unique per integration) and answers with the same ticket."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from opsdesk.intake.models import InboundMessage, InboundStatus, WebhookReport
from opsdesk.intake.webhooks import reports
from opsdesk.tickets.models import Ticket
from tests.intake.conftest import Sender
from tests.intake.webhook_reports import MAPPING, report


def test_losing_the_race_for_a_new_key_answers_with_the_winners_ticket(
    make_webhook: Callable[..., Sender], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moment of the race, made certain: the key another delivery just committed is not
    seen by this one, so its insert hits the unique constraint."""
    sender = make_webhook(**MAPPING)
    first = sender.post(report()).json()
    real = reports._locked_report
    calls: list[str] = []

    def blind_first_time(integration: Any, key: str) -> WebhookReport | None:
        calls.append(key)
        return None if len(calls) == 1 else real(integration, key)

    monkeypatch.setattr(reports, "_locked_report", blind_first_time)
    second = sender.post(report())

    assert second.status_code == 200 and second.json()["ticket"] == first["ticket"]
    assert Ticket.objects.count() == 1  # the losing ticket rolled back with its savepoint
    assert WebhookReport.objects.get().deliveries == 2


# Committed for real; serialized_rollback puts back the data migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_deliveries_of_one_report_make_one_ticket(
    make_webhook: Callable[..., Sender]
) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the in-memory SQLite test database locks tables without waiting")
    sender = make_webhook(**MAPPING)
    posts = 6
    start = threading.Barrier(posts)
    answers: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            start.wait(timeout=10)
            response = Sender(sender.integration, sender.secret, url=sender.url).post(report())
            answers.append((response.status_code, response.json()["ticket"]))
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
    assert sorted(status for status, _key in answers) == [200] * (posts - 1) + [201]
    assert len({key for _status, key in answers}) == 1
    assert Ticket.objects.count() == 1 and WebhookReport.objects.get().deliveries == posts
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {
        InboundStatus.PROCESSED}
