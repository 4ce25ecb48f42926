"""Keep the processes of ``opsdesk run`` (the web server and the worker) running.

``python -m opsdesk.runtime.supervise '{"web": [argv…], "worker": [argv…]}'``: started by
``opsdesk run`` once the database is migrated. A child that exits is started again, after a
wait that grows while it keeps failing quickly (a database that is down), so one process
dying never takes the rest of the desk with it. SIGINT or SIGTERM stops every child.

Plain Python on purpose: this process only watches, and importing Django here would keep
~100 MB resident for nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

# A child that ran this long before exiting was healthy: it is restarted without delay.
HEALTHY_SECONDS = 30.0
FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0
POLL_SECONDS = 0.5
STOP_TIMEOUT = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None
    restarts: int = 0

    def start(self, now: float) -> None:
        self.process = subprocess.Popen(self.argv)
        self.started, self.restart_at = now, None

    def exited(self, now: float) -> float:
        """Note that the process ended; how long to wait before starting it again."""
        assert self.process is not None
        code = self.process.returncode
        ran = now - self.started
        self.quick_exits = 0 if ran >= HEALTHY_SECONDS else self.quick_exits + 1
        wait = 0.0 if not self.quick_exits else min(
            FIRST_WAIT * 2 ** (self.quick_exits - 1), LONGEST_WAIT)
        self.restart_at, self.restarts = now + wait, self.restarts + 1
        say(f"opsdesk: the {self.name} exited (code {code}) after {ran:.0f} s; "
            f"starting it again in {wait:.0f} s")
        return wait


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def supervise(children: list[Child]) -> None:
    """Run ``children`` until SIGINT/SIGTERM, restarting any that exits; then stop them all."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        for child in children:
            child.start(time.monotonic())
        while True:
            time.sleep(POLL_SECONDS)
            now = time.monotonic()
            for child in children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.start(now)
                elif child.process is not None and child.process.poll() is not None:
                    child.exited(now)
    except (Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children)


def stop_all(children: list[Child]) -> None:
    running = [c.process for c in children if c.process and c.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m opsdesk.runtime.supervise '{\"name\": [argv…], …}'")
    supervise([Child(name, list(child_argv)) for name, child_argv in json.loads(argv[0]).items()])


if __name__ == "__main__":
    main(sys.argv[1:])
