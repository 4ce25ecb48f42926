"""`opsdesk run` holds Django once: one web process whose threads also run the worker
(runtime/embedded.py), under the supervisor; what only some requests need is imported when
they come (bench.memory measures the tree)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as OPENPYXL_ILLEGAL

from opsdesk.demo.management.commands import run as run_command
from opsdesk.reports import exports
from opsdesk.runtime.management.commands.serve import THREADS_PER_PROCESS
from tests.runtime.desk import free_port, throwaway_desk, wait_for


class Exec(Exception):
    pass


def test_run_supervises_one_web_process_with_the_worker_inside(monkeypatch):
    started: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> Any:
        started.append(argv)
        raise Exec

    monkeypatch.setattr(run_command, "call_command", lambda *args, **kwargs: None)
    monkeypatch.setattr(run_command, "demo_is_loaded", lambda: True)
    monkeypatch.setattr(run_command, "login_help", lambda url: "")
    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setenv("OPSDESK_HOST", "127.0.0.1")  # restored afterwards: run sets both
    monkeypatch.setenv("OPSDESK_PORT", "8000")

    with pytest.raises(Exec):
        run_command.Command().handle(host="127.0.0.1", port=8123, no_demo=False)

    [argv] = started
    assert argv[1:3] == ["-m", "opsdesk.runtime.supervise"]
    children = json.loads(argv[3])
    assert list(children) == ["web server"]
    web = children["web server"]
    assert web[web.index("--workers") + 1] == "1"
    # As many request threads as the two processes it replaces had.
    assert web[web.index("--blocking-threads") + 1] == str(2 * THREADS_PER_PROCESS)
    assert web[-1] == "opsdesk.runtime.embedded:application"


def _children(pid: int, pattern: str = "") -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid), *(["-f", pattern] if pattern else [])],
                           capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return answer.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def test_make_run_web_process_runs_the_worker_and_stops_it_cleanly(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        port = free_port()
        run = desk.start("run", "--no-demo", "--port", str(port), log="run.log")
        # Ready means a worker beats: the one inside the web process.
        wait_for(lambda: _ready(port), timeout=90, what="/readyz")
        [main] = _children(run.pid)
        assert b"granian" in Path(f"/proc/{main}/cmdline").read_bytes()
        assert len(_children(main)) == 1
        assert not _children(run.pid, "opsdesk.cli worker")

        desk.file_ticket("由网页进程里的 worker 派发")
        wait_for(lambda: desk.query("SELECT dispatched FROM tickets_ticket")[0][0],
                 timeout=30, what="the worker dispatching")
        assert desk.query("SELECT count(*) FROM runtime_workerheartbeat")[0][0] == 1

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 0
        # A clean stop says so: its tasks need not wait a minute to be recovered.
        assert desk.query("SELECT count(*) FROM runtime_workerheartbeat")[0][0] == 0


def test_serving_does_not_load_openpyxl_until_a_workbook_is_written(tmp_path):
    probe = ("import sys, opsdesk.runtime.wsgi; "
             "assert 'openpyxl' not in sys.modules, 'openpyxl loaded'; "
             "from opsdesk.reports import exports; "
             "exports.to_xlsx([exports.Table(sheet='s', headers=['a'], rows=[['x']])]); "
             "assert 'openpyxl' in sys.modules")
    env = {**os.environ, "OPSDESK_DATA_DIR": str(tmp_path), "OPSDESK_DATABASE_URL": "",
           "DJANGO_SETTINGS_MODULE": "opsdesk.settings"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_csv_cells_drop_what_openpyxl_calls_illegal():
    assert exports.ILLEGAL_CHARACTERS_RE.pattern == OPENPYXL_ILLEGAL.pattern
    assert exports.safe_text("a\x00b\x1fc") == "abc"
