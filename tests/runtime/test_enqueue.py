"""Background work exists exactly when the change that calls for it commits."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from opsdesk.runtime.tasks import enqueue_with_transaction
from opsdesk.sla.tasks import check_ticket_sla

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_task_is_written_with_the_change(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as after_commit, transaction.atomic():
        enqueue_with_transaction(lambda: check_ticket_sla.enqueue(42))
        # Inside the change's transaction: one commit makes both visible to the worker.
        assert DBTaskResult.objects.get().args_kwargs["args"] == [42]

    assert after_commit == []


def test_a_rolled_back_change_leaves_no_task():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_with_transaction(lambda: check_ticket_sla.enqueue(42))
        raise RuntimeError("the change failed")

    assert DBTaskResult.objects.count() == 0


def test_other_backends_run_after_the_commit(settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    ran: list[str] = []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_with_transaction(lambda: ran.append("enqueued"))
        assert ran == []

    assert ran == ["enqueued"]
