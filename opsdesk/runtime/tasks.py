"""Enqueueing background work together with the change that calls for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django_tasks import default_task_backend
from django_tasks_db import DatabaseBackend


def enqueue_with_transaction(enqueue: Callable[[], Any]) -> None:
    """Run ``enqueue`` so that the work exists exactly when the caller's change commits.

    With the database backend (the default) the task row is written in the caller's
    transaction: one commit for both, and the worker cannot see the task before the change.
    Other backends (tests use the immediate one) run it after the commit instead."""
    if isinstance(default_task_backend, DatabaseBackend) and connection.in_atomic_block:
        enqueue()
    else:
        transaction.on_commit(enqueue, robust=True)
