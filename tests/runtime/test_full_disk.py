"""A full disk under SQLite: the desk answers every request (a 503 to retry where it cannot
write, reads as usual), the worker outlives it, nothing acknowledged is lost, and filing works
again as soon as space is freed. The data folder lives on a small disk of its own (tmpfs),
which takes root to mount."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import report
from tests.runtime.desk import Desk, free_port, throwaway_desk, wait_for


@contextlib.contextmanager
def small_disk(where: Path, megabytes: int) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs",
                              str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small disk here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * (1 << 20))
            out.flush()
            os.fsync(out.fileno())
    return filler


def _call(port: int, method: str, path: str, token: str = "", body: object = None) -> int:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, json.dumps(body).encode() if body else None, headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    except OSError:
        return 0


def _report(port: int, token: str, title: str) -> int:
    return _call(port, "POST", "/api/v1/tickets", token, report(
        title=title, impact="few_users", urgency="normal", submitter_contact="分机 8021"))


def _dispatched(desk: Desk) -> bool:
    return not desk.query("SELECT id FROM tickets_ticket WHERE dispatched = %s", False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small disk needs root")
def test_a_full_disk_is_answered_with_503s_and_nothing_acknowledged_is_lost(tmp_path):
    if os.environ.get("OPSDESK_DATABASE_URL"):
        pytest.skip("the database's disk is SQLite's here; PostgreSQL's is its server's")
    with small_disk(tmp_path / "disk", 64) as disk, throwaway_desk(disk) as desk:
        token = desk.opsdesk("token", "create", "desk-submitter").split()[-1]
        port = free_port()
        worker = desk.start("worker", log="worker.log")
        desk.start("serve", "--port", str(port), log="serve.log")
        wait_for(lambda: _call(port, "GET", "/api/v1/ping") == 200, timeout=60,
                 what="the server")
        acknowledged = [t for t in ("满盘前 1", "满盘前 2") if _report(port, token, t) == 201]
        wait_for(lambda: _dispatched(desk), timeout=30, what="dispatch before the fault")

        filler = fill(disk)
        during = [_report(port, token, f"满盘时 {n}") for n in range(20)]
        reads = _call(port, "GET", "/api/v1/tickets", token)
        filler.unlink()

        assert set(during) <= {201, 503}, during
        assert reads == 200 and worker.poll() is None
        acknowledged += [f"满盘时 {n}" for n, status in enumerate(during) if status == 201]
        assert _report(port, token, "满盘后") == 201
        acknowledged.append("满盘后")
        wait_for(lambda: _dispatched(desk), timeout=60, what="dispatch after the fault")
        titles = [row[0] for row in desk.query("SELECT title FROM tickets_ticket")]
        assert sorted(titles) == sorted(acknowledged)
        assert worker.poll() is None
