"""Under a database stall the intake answers fast, with a JSON 503 and Retry-After, well inside
the sender's timeout, so that the sender retries (Alertmanager retries a 5xx); nothing of the
stalled request was stored, and the retry once the database is free files every fault exactly
once.

SQLite: the production server (``opsdesk serve``) on a database file of its own, whose write
lock another process holds. PostgreSQL: a row lock held by another connection.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from opsdesk.intake.models import Alert, InboundMessage, InboundStatus
from tests.intake.conftest import Sender
from tests.intake.payloads import CPU, DISK, notification

OPSDESK = str(Path(sys.executable).with_name("opsdesk"))
BOUND = 1.0  # OPSDESK_INTAKE_LOCK_WAIT_SECONDS in these tests (5 by default)
# How much later than the bound the answer may come: the request's own work, a slow machine.
SLACK = 1.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    port: int
    database: Path
    secret: str
    log: Path

    def post(self, payload: Any) -> tuple[int, dict[str, str], dict[str, Any], float]:
        """Status, headers, JSON body and seconds taken of a post as Alertmanager makes it."""
        started = time.monotonic()
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        client.request("POST", "/api/v1/intake/alertmanager", json.dumps(payload).encode(),
                       {"Content-Type": "application/json",
                        "Authorization": f"Bearer {self.secret}"})
        response = client.getresponse()
        body = json.loads(response.read())
        client.close()
        return response.status, dict(response.getheaders()), body, time.monotonic() - started

    def count(self, sql: str) -> int:
        """A count read beside the server (WAL: reading waits for no writer)."""
        with sqlite3.connect(self.database) as reader:
            return int(reader.execute(sql).fetchone()[0])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``opsdesk serve`` (one worker) on a fresh SQLite installation, with settings that bound
    intake's lock waits at BOUND, and an Alertmanager integration."""
    folder = tmp_path_factory.mktemp("opsdesk-stall")
    (folder / "stall_settings.py").write_text(
        "from opsdesk.settings import *  # noqa: F403\n"
        f"OPSDESK_INTAKE_LOCK_WAIT_SECONDS = {BOUND}\n")
    env = {**os.environ, "OPSDESK_DATA_DIR": str(folder), "OPSDESK_DATABASE_URL": "",
           "OPSDESK_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "stall_settings",
           "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([OPSDESK, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    created = subprocess.run(
        [OPSDESK, "shell", "-v", "0", "-c", "from opsdesk.intake import integrations; "
         "print(integrations.create_integration(name='am', kind='alertmanager')[1])"],
        env=env, check=True, timeout=120, capture_output=True, text=True)
    port, log = free_port(), folder / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([OPSDESK, "serve", "--port", str(port), "--workers", "1"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        _wait_for_ping(port, server, log)
        yield Served(port, folder / "opsdesk.sqlite3", created.stdout.strip(), log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_for_ping(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        try:
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            client.request("GET", "/api/v1/ping")
            if client.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("the server did not start:\n" + log.read_text(errors="replace"))


def assert_answered_503_in_time(status: int, headers: dict[str, str], body: dict[str, Any],
                                took: float) -> None:
    assert status == 503, body
    assert body["code"] == "database_unavailable" and body["message"]
    headers = {name.lower(): value for name, value in headers.items()}
    assert int(headers["retry-after"]) > 0
    assert headers["content-type"].startswith("application/json")
    assert BOUND * 0.9 <= took < BOUND + SLACK, took


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
def test_sqlite_a_held_write_lock_is_answered_503_fast_and_the_retry_files_once(
    served: Served,
) -> None:
    holder = sqlite3.connect(served.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    try:
        stalled = served.post(notification(CPU.alert(), DISK.alert()))
        assert_answered_503_in_time(*stalled)
        # Nothing of it was stored: the sender, not a replay, brings it back.
        assert served.count("SELECT count(*) FROM intake_inboundmessage") == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    status, _headers, retried, _took = served.post(notification(CPU.alert(), DISK.alert()))
    assert status == 200 and len(retried["created"]) == 2, retried
    status, _headers, again, _took = served.post(notification(CPU.alert(), DISK.alert()))
    assert status == 200 and again["created"] == [] and len(again["repeated"]) == 2
    assert served.count("SELECT count(*) FROM tickets_ticket") == 2
    assert served.count("SELECT count(*) FROM intake_inboundmessage "
                        "WHERE status = 'processed'") == 2


# Committed for real (another connection must see the alert); serialized_rollback puts back
# the data migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_a_row_lock_held_too_long_is_answered_503_fast_and_the_retry_counts_once(
    make_sender: Callable[..., Sender], settings: Any,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a row lock of PostgreSQL's (SQLite: the test above)")
    settings.OPSDESK_INTAKE_LOCK_WAIT_SECONDS = BOUND
    sender = make_sender()
    sender.send(notification(CPU.alert()))
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as holder:
        holder.execute("SELECT id FROM intake_alert FOR UPDATE")  # held until it ends
        started = time.monotonic()
        response = sender.post(notification(CPU.alert(), DISK.alert()))
        took = time.monotonic() - started
        assert_answered_503_in_time(response.status_code, dict(response.headers),
                                    response.json(), took)
        holder.rollback()
    # Stored before the lock was met, and left "received": the sender retries it.
    stalled = InboundMessage.objects.order_by("pk").last()
    assert stalled is not None and stalled.status == InboundStatus.RECEIVED
    retried = sender.send(notification(CPU.alert(), DISK.alert()))
    assert len(retried["created"]) == 1 and len(retried["repeated"]) == 1
    assert Alert.objects.get(identity=CPU.fingerprint).occurrences == 2
