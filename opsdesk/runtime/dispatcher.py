"""The worker's dispatcher thread: new tickets are routed, their clocks started and people told
moments after they are filed, many at a time (tickets/dispatch.py)."""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections

from opsdesk.tickets.dispatch import BATCH, dispatch_due

log = logging.getLogger(__name__)

# How long the dispatcher rests when it found less than a full batch: the longest a new ticket
# waits, and what lets a busy minute's tickets gather into batches.
REST_SECONDS = 0.2


def run_forever(stop: threading.Event) -> None:
    while not stop.is_set():
        close_old_connections()
        started = time.monotonic()
        try:
            done = dispatch_due()
        except Exception:
            # Logged and tried again: the tickets stay marked and are picked up next round.
            log.exception("dispatching new tickets failed")
            done = 0
        # With a backlog (a storm), rest as long as the batch took: the database (SQLite has
        # one writer) is then free at least half the time for storing what keeps arriving,
        # which comes first; routing catches up once the storm calms.
        stop.wait(REST_SECONDS if done < BATCH else time.monotonic() - started)


def start(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(stop,), name="opsdesk-dispatcher",
                              daemon=True)
    thread.start()
    return thread
