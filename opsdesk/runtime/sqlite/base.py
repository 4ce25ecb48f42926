"""Django's SQLite backend, with write transactions that start as soon as the database is free.

SQLite lets one transaction write at a time. A writer that finds the database taken is put to
sleep by SQLite's busy handler for 1, 2, 5, 10, 15, 20, 25 … ms between tries, so it wakes
on average half a step after the other writer committed: with two server workers taking
turns, a third of the time nobody writes. ``BEGIN IMMEDIATE`` (or ``EXCLUSIVE``, which the task
queue claims with; the same under WAL) is therefore tried with the busy handler off and
retried here every fraction of a millisecond (a failed try costs a few microseconds), up to
the same timeout; every other statement keeps SQLite's handler.

A request bounds its waits with ``lock_wait(seconds)`` (every web request does, see
runtime/request_limits.py; an alert intake more tightly, inside Alertmanager's deadline): then
"database is locked" comes after ``seconds``, for a write transaction and for a lone write
outside one (SQLite's busy handler is set to the bound for the statements run within it), and
the request answers 503 while its caller still listens.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db.backends.sqlite3 import base

# The waits between tries of BEGIN IMMEDIATE: short while the other writer is likely about to
# commit, growing for a long transaction (a migration, a big import).
FIRST_WAIT = 0.0001
LONGEST_WAIT = 0.002
# This thread's bound on the wait for the write lock, if a request set one (each thread has
# its own connection, so this is the bound of the connection the request uses).
_bound = threading.local()


@contextmanager
def lock_wait(seconds: float) -> Iterator[None]:
    """Within this block, this thread's write transactions wait for the write lock at most
    ``seconds`` (never longer than the connection's own timeout)."""
    outer = getattr(_bound, "seconds", None)
    _bound.seconds = seconds if outer is None else min(seconds, outer)
    try:
        yield
    finally:
        _bound.seconds = outer


# Statements longer than this (a long IN list) are converted each time, not remembered.
REMEMBERED_LENGTH = 4096


@functools.lru_cache(maxsize=512)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class CursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, remembering statements with their placeholders converted to SQLite's
    (``%s`` to ``?``): the same few hundred statements come again and again, and converting a
    long one with a regular expression took longer than SQLite took to run it."""

    def convert_query(self, query: str, *, param_names: Sequence[str] | None = None) -> str:
        if param_names is None and len(query) <= REMEMBERED_LENGTH:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)  # type: ignore[misc]


class DatabaseWrapper(base.DatabaseWrapper):
    busy_ms: int | None = None  # the busy handler's timeout set on the open connection

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        self.busy_timeout = float(params.get("timeout", 5.0))
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.busy_ms = None
        return super().get_new_connection(conn_params)

    def lock_timeout(self) -> float:
        """How long this thread may wait for a lock now: the connection's timeout, or less."""
        bound = getattr(_bound, "seconds", None)
        return self.busy_timeout if bound is None else min(bound, self.busy_timeout)

    def create_cursor(self, name: str | None = None) -> Any:
        # Statements outside a write transaction (a lone UPDATE, a read) wait in SQLite's busy
        # handler: it gets this thread's bound, changed only when the bound changes.
        wanted = int(self.lock_timeout() * 1000)
        if wanted != self.busy_ms:
            self.connection.execute(f"PRAGMA busy_timeout = {wanted}")
            self.busy_ms = wanted
        return self.connection.cursor(factory=CursorWrapper)

    def _start_transaction_under_autocommit(self) -> None:
        mode = getattr(self, "transaction_mode", None)
        if mode not in ("IMMEDIATE", "EXCLUSIVE"):
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        raw: sqlite3.Connection = self.connection
        deadline = time.monotonic() + self.lock_timeout()
        wait = FIRST_WAIT
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    raw.execute(f"BEGIN {mode}")
                    return
                except sqlite3.OperationalError as error:
                    busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() >= deadline:
                        with self.wrap_database_errors:
                            raise
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
        finally:
            self.busy_ms = int(self.lock_timeout() * 1000)
            raw.execute(f"PRAGMA busy_timeout = {self.busy_ms}")
