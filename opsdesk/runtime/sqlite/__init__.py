"""opsdesk's SQLite database backend (``ENGINE: "opsdesk.runtime.sqlite"``), and the
checkpoint the worker runs."""

from __future__ import annotations

from typing import Any

from django.db import connection


def checkpoint(db: Any = connection) -> tuple[int, int, int] | None:
    """Copy what the write-ahead log holds into the database file without waiting for, or
    holding up, anyone (PASSIVE): the worker's job every second, so that the commits of
    requests do not pay for it. SQLite's answer: (busy, pages in the log, pages copied)."""
    if db.vendor != "sqlite":
        return None
    with db.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, logged, copied = cursor.fetchone()
    return int(busy), int(logged), int(copied)
