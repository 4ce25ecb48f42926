"""The worker's dispatcher thread: new tickets are routed, their clocks started and people told
moments after they are filed, many at a time. What it dispatches is registered by the app that
owns it (``dispatch_with``: tickets/dispatch.py), and what tells that intake is busy by the apps
that write it (``watch_intake``).

Intake comes first where it must. On SQLite one transaction writes at a time, and a batch of
dispatching holds the database for tens of milliseconds, which a report being filed would wait
out. So there, while reports or alerts keep arriving and the backlog is young, the dispatcher
takes only a small share of the time, in small batches (a filing that finds one under way waits
a few milliseconds, not the tens of a full batch); once intake pauses it takes all it needs, and
once the backlog is ``CATCH_UP_AFTER`` old it takes turns with intake (measured in an alert
storm: 28–40% more alerts taken in, routing finished 1.5–4 s after it). PostgreSQL's writers
lock rows, not the database: a batch holds up no report, so there the dispatcher works a burst
off at once (paced, the same storm was taken in no faster and routed 1–2 s later). The SLA
clocks run from the submission either way: a burst's routing lag shows in them rather than
hiding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connection
from django.db.models import Max, Model

from opsdesk.runtime.backoff import Backoff

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
# The databases whose writers wait for one another's whole transaction: only there does a
# batch of dispatching hold intake up, and only there does the dispatcher give way to it.
YIELDING_VENDORS = frozenset({"sqlite"})


@dataclass(frozen=True)
class Dispatching:
    """What the dispatcher works off: ``run(limit)`` dispatches up to ``limit`` waiting items,
    oldest first, and says how many it did; ``batch`` of them at a time, or ``busy_batch``
    while intake is busy on a database whose writers wait for one another."""

    run: Callable[[int], int]
    batch: int
    busy_batch: int


_dispatching: Dispatching | None = None
_intake_models: list[type[Model]] = []


def dispatch_with(run: Callable[[int], int], *, batch: int, busy_batch: int) -> None:
    """Have the worker dispatch by calling ``run`` (from AppConfig.ready())."""
    global _dispatching
    _dispatching = Dispatching(run, batch, busy_batch)


def watch_intake(*models: type[Model]) -> None:
    """Intake is busy while rows are added to ``models`` (from AppConfig.ready())."""
    _intake_models.extend(model for model in models if model not in _intake_models)


def dispatch_all() -> int:
    """Dispatch everything waiting (the worker's ``--batch`` run); how many."""
    total = 0
    while _dispatching is not None and (done := _dispatching.run(_dispatching.batch)):
        total += done
    return total


@dataclass
class Pace:
    """How much the dispatcher takes in each round, and how long it rests after it."""

    batch: int
    busy_batch: int
    yields_to_intake: bool = True
    backlog_since: float | None = None

    def limit(self, *, intake_busy: bool, now: float) -> int:
        """The most the next round dispatches: ``busy_batch`` while intake is busy and the
        backlog young, so that a round holds up a filing for milliseconds only."""
        if not (self.yields_to_intake and intake_busy):
            return self.batch
        if self.backlog_since is not None and now - self.backlog_since >= CATCH_UP_AFTER:
            return self.batch
        return self.busy_batch

    def rest(self, *, done: int, limit: int, took: float, now: float) -> tuple[float, bool]:
        """Seconds to rest after a round that dispatched ``done`` of at most ``limit`` tickets
        in ``took`` seconds, ending at ``now``; and whether a pause in intake may end that
        rest early."""
        if done < limit:
            self.backlog_since = None
            return REST_SECONDS, False
        if not self.yields_to_intake:
            return 0.0, False
        if self.backlog_since is None:
            self.backlog_since = now - took
        if now - self.backlog_since >= CATCH_UP_AFTER:
            return took, False
        return took * (1 - SHARE_WHILE_BUSY) / SHARE_WHILE_BUSY, True


def intake_mark() -> tuple[int | None, ...]:
    """What intake wrote last: the newest row of each watched model (an alert storm's repeats
    file no ticket, yet keep the database as busy as new reports do)."""
    return tuple(model._default_manager.aggregate(newest=Max("pk"))["newest"]
                 for model in _intake_models)


@dataclass
class Intake:
    """Looks at what intake wrote, to tell whether reports or alerts are still arriving."""

    mark: Callable[[], object] = intake_mark
    seen: object = None

    def look(self) -> bool:
        """Look again and remember what was seen; whether intake paused, that is, wrote
        nothing since the previous look (the first look finds it busy)."""
        latest = self.mark()
        paused, self.seen = latest == self.seen, latest
        return paused


def rest_while_busy(stop: threading.Event, seconds: float, intake: Intake) -> bool:
    """Rest up to ``seconds`` while intake is busy, looking after ``GRACE_SECONDS`` and then
    every ``REST_SECONDS``; the first look that finds nothing arrived since the previous one
    ends the rest. Whether intake paused (it is still busy when the rest ran out)."""
    deadline = time.monotonic() + seconds
    if stop.wait(GRACE_SECONDS):
        return False
    while not intake.look():
        left = deadline - time.monotonic()
        if left <= 0 or stop.wait(min(REST_SECONDS, left)):
            return False
    return True


def run_forever(stop: threading.Event, dispatching: Dispatching, *,
                vendor: str | None = None, intake: Intake | None = None) -> None:
    """Dispatch until ``stop`` is set, paced for the database ``vendor`` (the default
    connection's by default) and what ``intake`` writes."""
    pace = Pace(dispatching.batch, dispatching.busy_batch,
                yields_to_intake=(vendor or connection.vendor) in YIELDING_VENDORS)
    intake, backoff = intake or Intake(), Backoff("dispatching new tickets")
    intake_busy = True  # until a look says otherwise
    while not stop.is_set():
        started = time.monotonic()
        try:
            close_old_connections()
            limit = pace.limit(intake_busy=intake_busy, now=started)
            done = dispatching.run(limit)
            backoff.succeeded()
            now = time.monotonic()
            seconds, while_busy = pace.rest(done=done, limit=limit, took=now - started, now=now)
            if while_busy:
                intake_busy = not rest_while_busy(stop, seconds, intake)
            elif not stop.wait(seconds) and pace.yields_to_intake:
                intake_busy = not intake.look()
        except Exception as error:
            # The tickets stay marked and are picked up once the database answers again.
            stop.wait(backoff.failed(error))


def start(stop: threading.Event) -> threading.Thread | None:
    """The dispatcher's thread, running; none when no app dispatches anything."""
    if _dispatching is None:
        return None
    thread = threading.Thread(target=run_forever, args=(stop, _dispatching),
                              name="opsdesk-dispatcher", daemon=True)
    thread.start()
    return thread
