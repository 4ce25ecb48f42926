"""A change of calendar or policies recomputing open clocks while tickets' actions move them:
the recomputation works on each clock as the action left it, never writing back one it read
before. PostgreSQL, with the action held open on a connection of its own (SQLite lets one
transaction write at a time, and the change's holds that lock from its start)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
import time_machine
from django.db import connection, connections, transaction

from opsdesk.accounts.models import User
from opsdesk.sla import services as sla
from opsdesk.tickets import services as tickets
from tests.conftest import Api
from tests.sla.test_following_changes import act, at, clock, filed_for, policy, workdays


def release_once_it_waits(pid: int, release: threading.Event) -> threading.Thread:
    """Set ``release`` as soon as the backend ``pid`` waits for a lock (or after 10 s),
    watching from a connection of its own."""
    params = {k: v for k, v in connection.get_connection_params().items()
              if k != "cursor_factory"}

    def watch() -> None:
        with psycopg.connect(**params, autocommit=True) as watcher:
            for _ in range(500):
                row = watcher.execute("SELECT cardinality(pg_blocking_pids(%s))",
                                      [pid]).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.02)
        release.set()

    thread = threading.Thread(target=watch)
    thread.start()
    return thread


CHANGES: dict[str, Callable[[], int]] = {
    "policy": lambda: sla.update_policy(policy=policy("高"), resolution_amount=Decimal(2)),
    "calendar": lambda: sla.update_calendar(calendar=workdays(), is_24x7=True),
}


# Committed for real: the action runs on another connection; serialized_rollback puts back the
# data migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_ticket_paused_while_a_change_recomputes_its_clock_stays_paused(
    api: dict[str, Api], people: dict[str, User], payment: object, change: str,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks of PostgreSQL's")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False) as travel:  # Wednesday
        ticket = filed_for(api, people, "high", module="payment")
        act(api["owner"], ticket, "acknowledge", people)
        travel.move_to(at(2026, 11, 18, 13, 0))  # 3 of the day's 9 hours spent
        asked, release = threading.Event(), threading.Event()

        def ask_the_submitter() -> None:
            """The engineer's question, which pauses the clock, committed only on release."""
            try:
                with transaction.atomic():
                    tickets.do_transition(ticket_id=ticket, action="request_info",
                                          by=people["owner"], version=None,
                                          fields={"comment": "能复现吗？"})
                    asked.set()
                    release.wait(30)
            finally:
                connections.close_all()

        action = threading.Thread(target=ask_the_submitter)
        action.start()
        assert asked.wait(30)
        connection.ensure_connection()
        watcher = release_once_it_waits(connection.connection.info.backend_pid, release)
        try:
            CHANGES[change]()
        finally:
            release.set()
            watcher.join()
            action.join()

    paused = clock(ticket)
    assert paused.running_since is None
    assert paused.paused_at == at(2026, 11, 18, 13, 0)
    assert paused.resolution_spent == timedelta(days=1) / 3
    assert (paused.resolution_due_at, paused.breach_at, paused.warn_at) == (None, None, None)
