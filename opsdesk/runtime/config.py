"""Configuration read on every ticket write, kept in each process's memory.

The priority matrix, routing rules, SLA policies and business calendars change a few times a
year but are read on every creation. Each cached value is tagged with the configuration
generation: a counter row that every save or delete of a configuration model moves on in the
same transaction (by a random step: a change rolled back and another committed practically
never give the same generation). A process re-reads a value whose generation is not the
current one, so an admin's edit in one process reaches every server and worker process, on any
machine, at their next read after it commits; the check is one primary-key read in raw SQL.
Within the process that made the change, the cache is also dropped at once (that covers a
rolled-back change too). A web request, and a batch of work in the worker (``one_read``),
reads the generation once.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started
from django.db import connection
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")

_TABLE = "runtime_configgeneration"
# Saves that touch only these change no configuration (a login stamps the user's last_login).
IGNORED_FIELDS = frozenset({"last_login"})
# name -> (generation, value); shared by the process's threads, replaced whole, never mutated.
_values: dict[str, tuple[int, Any]] = {}


# The generation read by the web request this thread is serving (None outside requests).
_request = threading.local()


def generation() -> int:
    known = getattr(_request, "generation", None)
    if known is not None:
        return int(known)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    current = int(row[0]) if row else 0
    if getattr(_request, "active", False):
        _request.generation = current
    return current


def _request_started(**_: Any) -> None:
    _request.active, _request.generation = True, None


def _request_finished(**_: Any) -> None:
    _request.active, _request.generation = False, None


request_started.connect(_request_started, dispatch_uid="config-request-started")
request_finished.connect(_request_finished, dispatch_uid="config-request-finished")


@contextmanager
def one_read() -> Iterator[None]:
    """Within the block, the generation is read once, as in a web request: for a batch of
    work done in one transaction, whose reads would see the same generation anyway."""
    previous = (getattr(_request, "active", False), getattr(_request, "generation", None))
    _request_started()
    try:
        yield
    finally:
        _request.active, _request.generation = previous


def cached(name: str, load: Callable[[], T]) -> T:
    """``load()``'s result, from memory while the configuration has not changed."""
    current = generation()
    entry = _values.get(name)
    if entry is not None and entry[0] == current:
        return entry[1]  # type: ignore[no-any-return]
    value = load()
    _values[name] = (current, value)
    return value


def clear() -> None:
    """Forget every cached value in this process."""
    _values.clear()


def changed(update_fields: frozenset[str] | None = None, **_: Any) -> None:
    """A configuration model changed: bump the generation (in the caller's transaction)."""
    if update_fields is not None and update_fields <= IGNORED_FIELDS:
        return
    clear()
    _request.generation = None
    bump()


def bump() -> None:
    """Move the generation on (in the caller's transaction), by a step drawn at random: a
    change rolled back leaves this process's values read since tagged with the generation it
    would have made, which a step of 1 in another process's committed change would make
    current again (with stale values) on every process that read them."""
    step = secrets.randbelow(1 << 20) + 1
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_TABLE} SET value = value + %s WHERE id = 1", [step])
        if cursor.rowcount == 0:
            cursor.execute(f"INSERT INTO {_TABLE} (id, value) VALUES (1, %s)", [step])


def watch(*models: type[Model], m2m: tuple[Any, ...] = ()) -> None:
    """Invalidate the cache whenever one of ``models`` (or ``m2m`` through tables) changes.
    Call from AppConfig.ready(). Bulk ``update()`` and ``bulk_create`` send no signals: code
    that changes configuration that way calls ``changed()`` itself."""
    for model in models:
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"config:{model}")
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"config-:{model}")
    for through in m2m:
        m2m_changed.connect(changed, sender=through, weak=False, dispatch_uid=f"config:{through}")
