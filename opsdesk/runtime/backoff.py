"""Waiting between tries of something that keeps failing, such as a database that went away.

A long-running loop (the task queue, the dispatcher, a periodic job) must outlive its
database restarting, a write lock held for a minute, a full disk: it logs the failure, waits
a little longer each time, closes its connection so the next try opens a fresh one, and
carries on. The first failure is logged with its traceback; the ones after it as one line
each, so an outage of an hour fills the log with a few hundred lines rather than tracebacks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection

log = logging.getLogger("opsdesk.runtime")

FIRST_WAIT = 0.5
LONGEST_WAIT = 30.0


@dataclass
class Backoff:
    what: str  # "dispatching new tickets", "periodic job checkpoint" …
    first: float = FIRST_WAIT
    longest: float = LONGEST_WAIT
    failures: int = 0

    def failed(self, error: BaseException) -> float:
        """Log ``error``, drop the database connection, and say how long to wait."""
        self.failures += 1
        wait = min(self.first * 2 ** (self.failures - 1), self.longest)
        if self.failures == 1:
            log.error("%s failed; trying again in %.1f s", self.what, wait, exc_info=error)
        else:
            log.warning("%s failed again (%d in a row: %s); trying again in %.1f s",
                        self.what, self.failures, _one_line(error), wait)
        forget_connection()
        return wait

    def succeeded(self) -> None:
        if self.failures:
            log.warning("%s works again after %d failures", self.what, self.failures)
        self.failures = 0


def forget_connection() -> None:
    """Close this thread's database connection, whatever state it is in: the next query opens
    a new one (a connection cut by a database restart cannot be used again)."""
    try:
        connection.close()
    except Exception:  # already broken: nothing left to close
        connection.connection = None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
