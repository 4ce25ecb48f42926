"""opsdesk's SQLite database backend (``ENGINE: "opsdesk.runtime.sqlite"``), and the
checkpoint the worker runs."""

from __future__ import annotations

from django.db import connection


def checkpoint() -> None:
    """Copy what the write-ahead log holds into the database file without waiting for, or
    holding up, anyone (PASSIVE): the worker's job every second, so that the commits of
    requests do not pay for it."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
