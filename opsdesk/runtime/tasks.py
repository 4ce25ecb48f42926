"""Enqueueing background work together with the change that calls for it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.compat import normalize_json
from django_tasks_db.models import DBTaskResult, get_date_max

from opsdesk.runtime import rows


def enqueue_with_transaction(enqueue: Callable[[], Any]) -> None:
    """Run ``enqueue`` so that the work exists exactly when the caller's change commits.

    With the database backend (the default) the task row is written in the caller's
    transaction: one commit for both, and the worker cannot see the task before the change.
    Other backends (tests use the immediate one) run it after the commit instead."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, DatabaseBackend) and connection.in_atomic_block:
        enqueue()
    else:
        transaction.on_commit(enqueue, robust=True)


def enqueue_many(task: Task[Any, Any], args: Sequence[tuple[Any, ...]],
                 run_after: Sequence[datetime | None] | None = None) -> None:
    """Enqueue ``task`` once per argument tuple (each optionally not before its moment), with
    the caller's change as ``enqueue_with_transaction`` does; the database backend gets all
    the rows through one statement (``rows.append``) instead of one enqueue per task."""
    moments = list(run_after) if run_after is not None else [None] * len(args)
    backend = task_backends[task.backend]
    if isinstance(backend, DatabaseBackend) and connection.in_atomic_block:
        backend.validate_task(task)
        # The backend's own enqueue writes these same columns, one row at a time (through the
        # ORM, whose bulk_create compiled the statement anew each time).
        rows.append([
            DBTaskResult(
                id=backend._get_id(), args_kwargs=normalize_json({"args": list(a), "kwargs": {}}),
                priority=task.priority, task_path=task.module_path, queue_name=task.queue_name,
                run_after=moment or get_date_max(), backend_name=backend.alias,
            )
            for a, moment in zip(args, moments, strict=True)
        ])
        return

    def enqueue_each() -> None:
        for a, moment in zip(args, moments, strict=True):
            (task.using(run_after=moment) if moment else task).enqueue(*a)

    transaction.on_commit(enqueue_each, robust=True)
