"""The worker's dispatcher thread: new tickets are routed, their clocks started and people told
moments after they are filed, many at a time (tickets/dispatch.py).

Intake comes first. On SQLite one transaction writes at a time, and a batch of dispatching
holds the database for tens of milliseconds, which a report being filed would wait out. So
while reports or alerts keep arriving and the backlog is young, the dispatcher takes only a
small share of the time; once intake pauses it takes all it needs, and once the backlog is
``CATCH_UP_AFTER`` old it takes turns with intake. The SLA clocks run from the submission
either way: a burst's routing lag (seconds, against response targets of minutes) shows in
them rather than hiding. The benchmark prints that lag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections
from django.db.models import Max

from opsdesk.intake.models import InboundMessage
from opsdesk.runtime.backoff import Backoff
from opsdesk.tickets.dispatch import BATCH, dispatch_due
from opsdesk.tickets.models import Ticket

# How long the dispatcher rests when it found less than a full batch: the longest a new ticket
# waits, and what lets a busy minute's tickets gather into batches.
REST_SECONDS = 0.2
# The dispatcher's share of the time while a backlog (a full batch waiting) is young and
# reports or alerts keep arriving: a burst is taken in at nearly the speed of an idle desk.
SHARE_WHILE_BUSY = 0.05
# A backlog older than this is worked off even while reports keep arriving; the dispatcher and
# intake then take turns.
CATCH_UP_AFTER = 30.0
# After a batch, the writers it held up need a moment to commit before intake can be judged
# paused: looking at once would find nothing new and starve them with batch after batch.
GRACE_SECONDS = 0.01


@dataclass
class Pace:
    """How long the dispatcher rests after each round."""

    backlog_since: float | None = None

    def rest(self, *, done: int, took: float, now: float) -> tuple[float, bool]:
        """Seconds to rest after a round that dispatched ``done`` tickets in ``took``
        seconds, ending at ``now``; and whether a pause in intake may end that rest early."""
        if done < BATCH:
            self.backlog_since = None
            return REST_SECONDS, False
        if self.backlog_since is None:
            self.backlog_since = now - took
        if now - self.backlog_since >= CATCH_UP_AFTER:
            return took, False
        return took * (1 - SHARE_WHILE_BUSY) / SHARE_WHILE_BUSY, True


def intake_mark() -> tuple[int | None, int | None]:
    """What intake wrote last: the newest ticket and the newest payload received (an alert
    storm's repeats file no ticket, yet keep the database as busy as new reports do)."""
    return (Ticket.objects.aggregate(newest=Max("pk"))["newest"],
            InboundMessage.objects.aggregate(newest=Max("pk"))["newest"])


@dataclass
class Intake:
    """Whether reports or alerts are arriving: intake wrote since the previous look."""

    mark: Callable[[], object] = intake_mark
    seen: object = None

    def paused(self) -> bool:
        latest = self.mark()
        paused, self.seen = latest == self.seen, latest
        return paused


def rest_while_busy(stop: threading.Event, seconds: float, intake: Intake) -> None:
    """Rest up to ``seconds`` while intake is busy, looking after ``GRACE_SECONDS`` and then
    every ``REST_SECONDS``; the first look that finds nothing arrived since the previous one
    ends the rest."""
    deadline = time.monotonic() + seconds
    if stop.wait(GRACE_SECONDS):
        return
    while not intake.paused():
        left = deadline - time.monotonic()
        if left <= 0 or stop.wait(min(REST_SECONDS, left)):
            return


def run_forever(stop: threading.Event) -> None:
    pace, intake, backoff = Pace(), Intake(), Backoff("dispatching new tickets")
    while not stop.is_set():
        started = time.monotonic()
        try:
            close_old_connections()
            done = dispatch_due()
            backoff.succeeded()
            now = time.monotonic()
            seconds, while_busy = pace.rest(done=done, took=now - started, now=now)
            if while_busy:
                rest_while_busy(stop, seconds, intake)
                continue
        except Exception as error:
            # The tickets stay marked and are picked up once the database answers again.
            seconds = backoff.failed(error)
        stop.wait(seconds)


def start(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(stop,), name="opsdesk-dispatcher",
                              daemon=True)
    thread.start()
    return thread
