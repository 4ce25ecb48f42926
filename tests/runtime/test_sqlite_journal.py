"""SQLite's write-ahead log does not stay large: once a checkpoint has copied it into the
database, the next write starts it over and cuts the file back to journal_size_limit (a storm
used to leave it at 35 MB for good). How commits reach the disk is the operator's choice:
OPSDESK_SQLITE_SYNCHRONOUS, NORMAL unless FULL is asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from opsdesk.runtime.sqlite import checkpoint
from opsdesk.runtime.sqlite.base import DatabaseWrapper

LIMIT = 16 << 20


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log")
def test_the_log_is_cut_back_to_the_limit_after_a_checkpoint(tmp_path: Path) -> None:
    settings = {**connection.settings_dict, "NAME": str(tmp_path / "db.sqlite3")}
    ours = DatabaseWrapper(settings, alias="journal-test")  # the configured pragmas
    ours.ensure_connection()
    log = tmp_path / "db.sqlite3-wal"
    raw = ours.connection
    try:
        raw.execute("CREATE TABLE burst (payload BLOB)")
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany("INSERT INTO burst VALUES (randomblob(1000000))", [()] * 40)
        raw.execute("COMMIT")
        assert log.stat().st_size > 2 * LIMIT  # a burst of 40 MB went through the log

        checkpoint(ours)
        raw.execute("INSERT INTO burst VALUES (x'00')")

        assert log.stat().st_size <= LIMIT
    finally:
        ours.close()


SYNC_SETTING = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA synchronous")
    print({1: "NORMAL", 2: "FULL"}[cursor.fetchone()[0]])
"""


def sync_setting(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SYNC_SETTING], capture_output=True, text=True, timeout=120,
        env={**os.environ, "OPSDESK_DATA_DIR": str(tmp_path), "OPSDESK_DATABASE_URL": "",
             "DJANGO_SETTINGS_MODULE": "opsdesk.settings", **env})


def test_commits_are_synced_at_checkpoints_unless_every_commit_is_asked_for(tmp_path: Path
                                                                             ) -> None:
    assert sync_setting(tmp_path).stdout.strip() == "NORMAL"
    assert sync_setting(tmp_path, OPSDESK_SQLITE_SYNCHRONOUS="full").stdout.strip() == "FULL"
    refused = sync_setting(tmp_path, OPSDESK_SQLITE_SYNCHRONOUS="OFF")
    assert refused.returncode != 0
    assert "OPSDESK_SQLITE_SYNCHRONOUS must be NORMAL or FULL" in refused.stderr
