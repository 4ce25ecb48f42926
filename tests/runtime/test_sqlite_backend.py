"""opsdesk's SQLite backend: a write transaction that finds the database taken starts as soon
as the other writer commits, and still gives up with "database is locked" after the
configured timeout; the worker's checkpoint runs on any backend."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from opsdesk.runtime.periodic import default_jobs
from opsdesk.runtime.sqlite import checkpoint
from opsdesk.runtime.sqlite.base import DatabaseWrapper, lock_wait

Test = Callable[..., None]
Connect = Callable[[float], DatabaseWrapper]


def on_sqlite_file(test: Test) -> Test:
    """A test of our own connections to a database file of their own: SQLite only; the
    django_db mark only lets them connect."""
    skip = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock")
    return pytest.mark.django_db(skip(test))  # type: ignore[no-any-return]


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Connect]:
    """Our backend's connections to ``db.sqlite3``, with the given busy timeout."""
    opened: list[DatabaseWrapper] = []

    def connect(timeout: float) -> DatabaseWrapper:
        settings = dict(connection.settings_dict)
        settings["NAME"] = str(tmp_path / "db.sqlite3")
        settings["OPTIONS"] = {**settings["OPTIONS"], "timeout": timeout}
        ours = DatabaseWrapper(settings, alias="lock-test")
        ours.ensure_connection()
        opened.append(ours)
        return ours

    yield connect
    for ours in opened:
        ours.close()


@pytest.fixture
def holder(tmp_path: Path) -> sqlite3.Connection:
    """Another process's connection to a WAL database, holding its write lock."""
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None,
                            check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE t (x INTEGER)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    return other


@on_sqlite_file
@pytest.mark.parametrize("mode", ["IMMEDIATE", "EXCLUSIVE"])  # EXCLUSIVE: the task queue's
def test_a_writer_starts_as_soon_as_the_other_commits(
    connect: Connect, holder: sqlite3.Connection, mode: str,
) -> None:
    ours = connect(20)
    ours.transaction_mode = mode
    committed_at: list[float] = []

    def commit() -> None:
        committed_at.append(time.monotonic())
        holder.execute("COMMIT")

    # Committed 335 ms into the wait: SQLite's own handler sleeps from 328 to 428 ms there,
    # so it would start 90 ms late; ours looks again every 2 ms at most.
    threading.Timer(0.335, commit).start()
    ours._start_transaction_under_autocommit()
    began_at = time.monotonic()
    assert committed_at and began_at - committed_at[0] < 0.05
    ours.connection.execute("INSERT INTO t VALUES (2)")
    ours.connection.execute("COMMIT")
    assert ours.connection.execute("SELECT count(*) FROM t").fetchone() == (2,)
    assert ours.connection.execute("PRAGMA busy_timeout").fetchone() == (20000,)


@on_sqlite_file
def test_a_writer_gives_up_after_the_timeout_with_the_usual_error(
    connect: Connect, holder: sqlite3.Connection,
) -> None:
    ours = connect(0.2)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        ours._start_transaction_under_autocommit()
    assert 0.2 <= time.monotonic() - started < 2
    # Statements other than BEGIN keep SQLite's own busy handler and timeout.
    assert ours.connection.execute("PRAGMA busy_timeout").fetchone() == (200,)
    holder.execute("ROLLBACK")


@on_sqlite_file
def test_a_request_may_bound_its_own_wait_for_the_write_lock(
    connect: Connect, holder: sqlite3.Connection,
) -> None:
    ours = connect(20)
    started = time.monotonic()
    with lock_wait(5), lock_wait(0.3), pytest.raises(OperationalError, match="locked"):
        ours._start_transaction_under_autocommit()  # the tighter of nested bounds
    assert 0.3 <= time.monotonic() - started < 1.5
    # Outside the block the connection's own timeout (20 s) applies: it waits for the commit.
    threading.Timer(0.6, lambda: holder.execute("COMMIT")).start()
    started = time.monotonic()
    ours._start_transaction_under_autocommit()
    assert time.monotonic() - started >= 0.5
    ours.connection.execute("ROLLBACK")


def test_the_worker_checkpoints_every_second() -> None:
    (job,) = [job for job in default_jobs() if job.name == "checkpoint"]
    assert job.every_seconds == 1 and job.run is checkpoint


@on_sqlite_file
def test_the_checkpoint_copies_the_log_into_the_database(connect: Connect) -> None:
    ours = connect(20)
    with ours.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=8000")
        cursor.execute("CREATE TABLE t (x TEXT)")
        cursor.executemany("INSERT INTO t VALUES (%s)", [["告警" * 500]] * 200)
    busy, logged, copied = checkpoint(ours) or (1, 0, 0)
    assert busy == 0 and logged > 50 and copied == logged


def test_there_is_no_checkpoint_on_postgresql() -> None:
    class Postgres:
        vendor = "postgresql"

    assert checkpoint(Postgres()) is None
