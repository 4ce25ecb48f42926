"""`opsdesk run` keeps the desk up: a child that exits is started again (sooner the longer it
had been healthy) while the others keep running; a signal stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

from tests.runtime.desk import free_port, throwaway_desk, wait_for


def _child(marker, *, exit_code: int | None) -> list[str]:
    then = f"sys.exit({exit_code})" if exit_code is not None else "time.sleep(600)"
    return [sys.executable, "-c",
            f"import sys, time; open({str(marker)!r}, 'a').write('x\\n'); {then}"]


def test_a_child_that_exits_is_started_again_and_the_others_keep_running(tmp_path):
    steady, failing = tmp_path / "steady", tmp_path / "failing"
    children = {"web server": _child(steady, exit_code=None),
                "worker": _child(failing, exit_code=3)}
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "opsdesk.runtime.supervise", json.dumps(children)],
        stderr=subprocess.PIPE, text=True)
    try:
        # Quick exits are restarted after 1, 2, 4 … seconds.
        wait_for(lambda: failing.exists() and len(failing.read_text().split()) >= 3,
                 timeout=20, what="three starts of the failing child")
        assert supervisor.poll() is None
        assert len(steady.read_text().split()) == 1
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, errors = supervisor.communicate(timeout=20)
    assert supervisor.returncode == 0
    assert "the worker exited (code 3)" in errors
    assert "web server exited" not in errors


def _ping(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/ping", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _children(pid: int, pattern: str = "") -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid), *(["-f", pattern] if pattern else [])],
                           capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def _app_pids(supervisor_pid: int) -> list[int]:
    """The web process that runs the application and, under `opsdesk run`, the worker
    (runtime/embedded.py): Granian's worker, below Granian's main process."""
    return [pid for main in _children(supervisor_pid, "granian") for pid in _children(main)]


def test_make_run_keeps_serving_and_dispatching_when_its_web_process_is_killed(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        port = free_port()
        run = desk.start("run", "--no-demo", "--port", str(port), log="run.log")
        wait_for(lambda: _ping(port), timeout=60, what="the web server")
        first = wait_for(lambda: _app_pids(run.pid), timeout=30, what="the web process")

        os.kill(first[0], signal.SIGKILL)

        replaced = wait_for(lambda: [p for p in _app_pids(run.pid) if p not in first],
                            timeout=30, what="a new web process")
        assert replaced
        wait_for(lambda: _ping(port), timeout=30, what="the new web process answering")
        desk.file_ticket("工作进程重启后的工单")
        wait_for(lambda: desk.query("SELECT dispatched FROM tickets_ticket")[0][0],
                 timeout=30, what="the new web process's worker dispatching")
        assert run.poll() is None
