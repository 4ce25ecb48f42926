"""Django's SQLite backend, with write transactions that start as soon as the database is free.

SQLite lets one transaction write at a time. A writer that finds the database taken is put to
sleep by SQLite's busy handler for 1, 2, 5, 10, 15, 20, 25 … ms between tries, so it wakes
on average half a step after the other writer committed: with two server workers taking
turns, a third of the time nobody writes. ``BEGIN IMMEDIATE`` (or ``EXCLUSIVE``, which the task
queue claims with; the same under WAL) is therefore tried with the busy handler off and
retried here every fraction of a millisecond (a failed try costs a few microseconds), up to
the same timeout; every other statement keeps SQLite's handler.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from django.db.backends.sqlite3 import base

# The waits between tries of BEGIN IMMEDIATE: short while the other writer is likely about to
# commit, growing for a long transaction (a migration, a big import).
FIRST_WAIT = 0.0001
LONGEST_WAIT = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        self.busy_timeout = float(params.get("timeout", 5.0))
        return params

    def _start_transaction_under_autocommit(self) -> None:
        mode = getattr(self, "transaction_mode", None)
        if mode not in ("IMMEDIATE", "EXCLUSIVE"):
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        raw: sqlite3.Connection = self.connection
        deadline = time.monotonic() + self.busy_timeout
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
            raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
