"""The worker never dies of a database error: with its database locked past the timeout
(SQLite) or its connections cut (PostgreSQL), a real `opsdesk worker` logs, backs off,
reconnects, and dispatches the next ticket as if nothing had happened. The web server's
processes check their kept connection before use, so a restart of PostgreSQL costs no error
once it is back."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest

from bench.faults import hold_write_lock, refuse_connections
from tests.runtime.desk import Desk, free_port, postgres_base_url, throwaway_desk, wait_for


def _dispatched(desk: Desk, title: str) -> bool:
    rows = desk.query("SELECT dispatched FROM tickets_ticket WHERE title = %s", title)
    return bool(rows and rows[0][0])


def test_the_worker_outlives_its_database_failing_and_carries_on(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        # A short lock timeout, so the test outlasts it in seconds rather than 20.
        worker = desk.start("worker", log="worker.log", env={"OPSDESK_SQLITE_TIMEOUT": "1"})
        desk.file_ticket("故障前的工单")
        wait_for(lambda: _dispatched(desk, "故障前的工单"), timeout=30, what="first dispatch")

        if desk.on_postgres:
            refuse_connections(desk.database_url, seconds=4)
        else:
            hold_write_lock(desk.data_dir / "opsdesk.sqlite3", seconds=4)

        assert worker.poll() is None, desk.log("worker.log")
        desk.file_ticket("故障后的工单")
        wait_for(lambda: _dispatched(desk, "故障后的工单"), timeout=60,
                 what="dispatch after the fault")
        assert worker.poll() is None
        log = desk.log("worker.log")
        assert "failed" in log and "works again" in log, log
        # Backing off, not a traceback per round: each loop (dispatcher, task queue, each
        # periodic job) logs its first failure with a traceback and later ones as one line.
        first_failures = re.findall(r" ERROR opsdesk\.runtime (.+?) failed;", log)
        assert first_failures, log
        assert len(first_failures) == len(set(first_failures)), log


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except OSError:  # not listening yet
        return 0


@pytest.mark.skipif(not postgres_base_url(), reason="connections are cut on PostgreSQL")
def test_the_web_server_answers_without_errors_once_the_database_is_back(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        token = desk.opsdesk("token", "create", "desk-submitter").split()[-1]
        port = free_port()
        desk.start("serve", "--port", str(port), log="serve.log")
        url = f"http://127.0.0.1:{port}/api/v1/tickets"
        wait_for(lambda: _get(url, token) == 200, timeout=60, what="the web server")
        for _ in range(6):  # every server process holds a connection
            assert _get(url, token) == 200

        refuse_connections(desk.database_url, seconds=1)

        assert [_get(url, token) for _ in range(6)] == [200] * 6, desk.log("serve.log")
