"""The database as one file, taken at one moment while the desk runs, and loaded back.

SQLite: the online backup API copies every page in one step under one read snapshot, so the
copy holds every commit up to that moment, those still in the write-ahead log included (a copy
of the database file alone misses them). PostgreSQL: ``pg_dump`` in custom format, on a
snapshot exported from a transaction that also reads which files the rows point to; loaded
back by ``pg_restore`` through ``psql`` in one transaction, so a restore that fails leaves the
database as it was. The connection goes to the tools through ``PG*`` environment variables,
never on their command line, where any user could read the password. What a snapshot counts
(an operator recognises a desk by it) the apps that own those rows register (``count``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction


class SnapshotError(Exception):
    """The database could not be copied or loaded; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    migrations: dict[str, list[str]]  # applied, by app
    files: list[str]  # storage names of the files rows point to
    counts: dict[str, int]  # rows of each counted model, by noun


_counted: dict[str, type[models.Model]] = {}


def count(noun: str, model: type[models.Model]) -> None:
    """Count ``model``'s rows as ``noun`` ("tickets") in every snapshot, and refuse to restore
    over a desk that has any (from AppConfig.ready())."""
    _counted[noun] = model


def counted() -> dict[str, type[models.Model]]:
    """The counted models by noun, in the nouns' order."""
    return dict(sorted(_counted.items()))


def take(directory: Path) -> Snapshot:
    """The database copied into ``directory``, with what it holds."""
    if connection.vendor == "sqlite":
        return _take_sqlite(directory / "opsdesk.sqlite3")
    if connection.vendor == "postgresql":
        return _take_postgresql(directory / "opsdesk.pgdump")
    raise SnapshotError(f"Backing up a {connection.vendor} database is not supported.")


def load(path: Path) -> None:
    """Replace everything the database holds with the snapshot at ``path``."""
    if connection.vendor == "sqlite":
        _load_sqlite(path)
    else:
        _load_postgresql(path)


def _take_sqlite(path: Path) -> Snapshot:
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)  # every page in one step: one moment
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise SnapshotError(f"The copy of the database is damaged: {verdict}")
        return _snapshot(path, copy.cursor())


def _take_postgresql(path: Path) -> Snapshot:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (exported,) = cursor.fetchone()
        snapshot = _snapshot(path, cursor)
        _run(["pg_dump", "--format=custom", f"--snapshot={exported}", f"--file={path}"])
    return snapshot


def _snapshot(path: Path, cursor: Any) -> Snapshot:
    """What the database at ``cursor`` holds: migrations applied, files, counted rows."""
    cursor.execute("SELECT app, name FROM django_migrations")
    migrations: dict[str, list[str]] = defaultdict(list)
    for app, name in cursor.fetchall():
        migrations[app].append(name)
    files: list[str] = []
    for table, column in _file_columns():
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> ''")
        files.extend(name for (name,) in cursor.fetchall())
    counts = {}
    for noun, model in counted().items():
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)}")
        (counts[noun],) = cursor.fetchone()
    return Snapshot(path, {app: sorted(names) for app, names in sorted(migrations.items())},
                    sorted(set(files)), counts)


def _file_columns() -> list[tuple[str, str]]:
    """(table, column), quoted, of every file field: the files rows point to."""
    quote = connection.ops.quote_name
    return [(quote(model._meta.db_table), quote(field.column))
            for model in apps.get_models() for field in model._meta.concrete_fields
            if isinstance(field, models.FileField)]


def _load_sqlite(path: Path) -> None:
    connection.ensure_connection()
    with closing(sqlite3.connect(path)) as archived:
        archived.backup(connection.connection)  # one step: others see all of it or none
    connection.close()


def _load_postgresql(path: Path) -> None:
    """Every table dropped and the dump restored in one transaction (tables a newer schema
    added would otherwise survive and trip the migrations that follow). The dump becomes a
    complete SQL script first: psql would commit a script cut short."""
    script = path.with_suffix(".sql")
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
          f"--file={script}", str(path)])
    quote = connection.ops.quote_name
    tables = ", ".join(quote(table) for table in connection.introspection.table_names())
    connection.close()
    drop = f"DROP TABLE IF EXISTS {tables} CASCADE" if tables else "SELECT 1"
    _run(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
          f"--command={drop}", f"--file={script}"])


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, env=_pg_environment(), check=False)
    if done.returncode != 0:
        raise SnapshotError(f"{command[0]} failed: "
                            + done.stderr.decode(errors="replace").strip())


def _pg_environment() -> dict[str, str]:
    """The connection Django uses, for pg_dump, pg_restore and psql."""
    settings = connection.settings_dict
    options = settings.get("OPTIONS") or {}
    given = {
        "PGHOST": settings.get("HOST"), "PGPORT": settings.get("PORT"),
        "PGUSER": settings.get("USER"), "PGPASSWORD": settings.get("PASSWORD"),
        "PGDATABASE": settings.get("NAME"), "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"), "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"), "PGPASSFILE": options.get("passfile"),
        "PGSERVICE": options.get("service"),
    }
    return {**os.environ, **{name: str(value) for name, value in given.items() if value}}
