"""The production path: deliveries queued in the database and sent by the worker (db_worker),
and a failed one's retry stored as a task deferred to its due moment, which outlives the worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from opsdesk.accounts.models import User
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.services import add_channel, notify
from opsdesk.tickets.models import Ticket
from tests.notify.conftest import Mailbox, free_port

# The worker commits for real; serialized_rollback puts back the data migrations' rows (SLA
# policies, routing rules) that the flush after each such test removes, for the tests after it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _database_queue(settings: Any, _tasks_run_now: None) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def deliveries_queued() -> Any:
    """The queued delivery tasks: first attempts together, retries one each (creating a
    ticket also queues its SLA timer)."""
    return DBTaskResult.objects.filter(task_path__in=["opsdesk.notify.tasks.deliver_all",
                                                      "opsdesk.notify.tasks.deliver"])


def run_worker() -> None:
    call_command("db_worker", queue_name="*", batch=True, interval=0, startup_delay=False,
                 reload=False, verbosity=0)


def test_the_worker_sends_what_was_queued_on_commit(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket
) -> None:
    notify(kind="assigned", ticket=ticket, recipients=[readers["zh"]], dedupe_key="assigned:1")
    assert deliveries_queued().count() == 1 and smtp_server.messages == []

    run_worker()
    assert [m["To"] for m in smtp_server.messages] == ["wanglei@example.com"]
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_a_failed_delivery_leaves_its_retry_in_the_queue(
    readers: dict[str, User], ticket: Ticket
) -> None:
    add_channel(owner=readers["en"], kind="webhook", target=f"http://127.0.0.1:{free_port()}/h")
    notify(kind="assigned", ticket=ticket, recipients=[readers["en"]], dedupe_key="assigned:1")
    run_worker()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    retry = deliveries_queued().get(status="READY")
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    assert retry.run_after == delivery.next_attempt_at
