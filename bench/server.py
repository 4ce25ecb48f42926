"""The production server (``opsdesk serve``: Granian) as a subprocess on a free port, and beside
it the worker (``opsdesk worker``) that dispatches what it files, as ``make run`` runs them."""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``opsdesk serve --port P --workers N`` in its own process group, stopped as a group, and
    ``opsdesk worker`` (one process) in another."""

    def __init__(self, *, env: dict[str, str], data_dir: str, workers: int = 2,
                 with_worker: bool = True, embedded: bool = False) -> None:
        self.env = env
        self.workers = workers
        self.with_worker = with_worker
        self.embedded = embedded  # as ``opsdesk run`` serves: one process, the worker inside
        self.port = free_port()
        self.log_path = Path(data_dir) / "server.log"
        self.worker_log_path = Path(data_dir) / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        opsdesk = str(Path(sys.executable).with_name("opsdesk"))
        argv = [opsdesk, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers)]
        if self.embedded and self.with_worker:
            from opsdesk.demo.management.commands.run import embedded_server_argv

            argv = embedded_server_argv(host="127.0.0.1", port=self.port)
        with self.log_path.open("wb") as log:
            # A new session: the server and its workers form one process group we can stop.
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        if self.embedded or not self.with_worker:
            self._wait_ready(timeout)
            return
        with self.worker_log_path.open("ab") as log:
            self.worker = subprocess.Popen(
                [opsdesk, "worker", "--verbosity", "0"], env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited ({self.process.returncode}):\n{self.log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/ping")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"The server did not answer /api/v1/ping in {timeout:.0f} s:\n{self.log()}"
        )

    def log(self) -> str:
        logs = []
        for path in (self.log_path, self.worker_log_path):
            with contextlib.suppress(OSError):
                logs.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(logs)

    def worker_pids(self) -> set[int]:
        return {self.worker.pid} if self.worker is not None else set()

    def stop(self) -> None:
        """SIGTERM to the server's process group and the worker, SIGKILL after 10 s; waits for
        them to go."""
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.terminate()
        self._stop_server()
        if worker is not None:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def kill(self) -> None:
        """SIGKILL to the server's process group and the worker: a crash."""
        for process in (self.process, self.worker):
            if process is not None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.process = self.worker = None

    def _stop_server(self) -> None:
        process = self.process
        if process is None:
            return
        self.process = None
        pgid = process.pid  # the session leader: its pid is the group id
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure no worker of the group outlived it.
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(pgid):
                time.sleep(0.1)
            if not _group_alive(pgid):
                break
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_dispatched(timeout: float) -> float:
    """Seconds until the worker has dispatched (routed, clocked, announced) every ticket filed
    so far, read from the database; ``timeout`` or more if it has not."""
    from django.db import connections

    from opsdesk.tickets.models import Ticket

    started = time.monotonic()
    while (Ticket.objects.filter(dispatched=False).exists()
           and time.monotonic() - started < timeout):
        time.sleep(0.01)
    connections.close_all()  # no connection (nor SQLite read snapshot) held afterwards
    return time.monotonic() - started


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the benchmark dies without stopping it (kill -9)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG; survives opsdesk serve's exec
    except (OSError, AttributeError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
