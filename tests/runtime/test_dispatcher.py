"""The dispatcher's pacing: it dispatches promptly when a few tickets trickle in; on SQLite it
yields the database to intake while a burst of reports or alerts arrives, in small batches that
hold a filing up for moments only, catches up in full batches as soon as intake pauses, and
takes turns with intake once a backlog is old; on PostgreSQL, whose writers do not wait for one
another's transactions, it works a burst off at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest
from django.db import connection

from opsdesk.accounts.models import User
from opsdesk.intake.payloads import store_inbound
from opsdesk.runtime import dispatcher
from opsdesk.runtime.dispatcher import (
    CATCH_UP_AFTER,
    GRACE_SECONDS,
    REST_SECONDS,
    SHARE_WHILE_BUSY,
    Dispatching,
    Intake,
    Pace,
    rest_while_busy,
    run_forever,
)
from opsdesk.tickets.dispatch import BATCH, BUSY_BATCH, dispatch_due
from opsdesk.tickets.models import Ticket
from tests.factories import TicketFactory


class Stop:
    """A stop event that records the rests asked of it instead of sleeping, and runs
    ``meanwhile`` during each (what other processes do while the dispatcher rests)."""

    def __init__(self, *, stopped: bool = False,
                 meanwhile: Callable[[], object] = lambda: None,
                 at_most: float = float("inf")) -> None:
        self.rests: list[float] = []
        self.now = 0.0  # the time it keeps for the dispatcher (``on_the_clock_of``)
        self.stopped = stopped
        self.meanwhile = meanwhile
        self.at_most = at_most  # rests: a dispatcher that never stops fails rather than hangs

    def wait(self, timeout: float) -> bool:
        self.rests.append(timeout)
        self.now += timeout
        assert len(self.rests) <= self.at_most, f"the dispatcher never stopped: {self.rests}"
        self.meanwhile()
        return self.stopped

    def is_set(self) -> bool:
        return self.stopped


def newest(*ids: int | None) -> Iterator[int | None]:
    yield from ids
    raise AssertionError("looked more often than expected")


def test_a_trickle_is_dispatched_after_a_short_rest() -> None:
    pace = Pace(BATCH, BUSY_BATCH)
    assert pace.rest(done=3, limit=BUSY_BATCH, took=0.01, now=100.0) == (REST_SECONDS, False)
    assert pace.rest(done=0, limit=BATCH, took=0.001, now=100.2) == (REST_SECONDS, False)


def test_a_young_backlog_leaves_most_of_the_time_to_intake() -> None:
    pace = Pace(BATCH, BUSY_BATCH)
    assert pace.limit(intake_busy=True, now=100.0) == BUSY_BATCH
    seconds, while_filing = pace.rest(done=BUSY_BATCH, limit=BUSY_BATCH, took=0.01, now=100.0)
    assert while_filing
    assert 0.01 / (0.01 + seconds) == pytest.approx(SHARE_WHILE_BUSY)
    assert pace.limit(intake_busy=True, now=100.2) == BUSY_BATCH
    assert pace.limit(intake_busy=False, now=100.2) == BATCH


def test_an_old_backlog_takes_turns_with_intake_until_it_is_gone() -> None:
    pace = Pace(BATCH, BUSY_BATCH)
    pace.rest(done=BUSY_BATCH, limit=BUSY_BATCH, took=0.01, now=100.0)
    assert pace.limit(intake_busy=True, now=99.99 + CATCH_UP_AFTER) == BATCH
    assert pace.rest(done=BATCH, limit=BATCH, took=0.1, now=99.99 + CATCH_UP_AFTER) == (
        0.1, False)
    assert pace.rest(done=BATCH - 1, limit=BATCH, took=0.1, now=100.0 + CATCH_UP_AFTER) == (
        REST_SECONDS, False)
    # The backlog was worked off: the next one is young again, and taken a little at a time.
    assert pace.limit(intake_busy=True, now=200.0) == BUSY_BATCH
    assert pace.rest(done=BUSY_BATCH, limit=BUSY_BATCH, took=0.01, now=200.0)[1] is True


def test_postgresql_takes_full_batches_whatever_intake_does() -> None:
    pace = Pace(BATCH, BUSY_BATCH, yields_to_intake=False)
    assert pace.limit(intake_busy=True, now=100.0) == BATCH
    assert pace.rest(done=BATCH, limit=BATCH, took=0.1, now=100.0) == (0.0, False)


def test_the_rest_lasts_while_reports_or_alerts_keep_arriving() -> None:
    looks = newest(10, 25, 40, 40)
    stop = Stop()
    assert rest_while_busy(stop, 60.0, Intake(mark=lambda: next(looks)))  # type: ignore[arg-type]
    assert stop.rests == [GRACE_SECONDS] + [REST_SECONDS] * 3


def test_the_rest_ends_at_once_when_nothing_arrived_since_the_last_look() -> None:
    looks = newest(40, 40, 40)
    intake = Intake(mark=lambda: next(looks))  # type: ignore[arg-type]
    stop = Stop()
    # The first look ever finds intake busy; the next not.
    assert rest_while_busy(stop, 60.0, intake)
    assert stop.rests == [GRACE_SECONDS, REST_SECONDS]
    assert rest_while_busy(stop, 60.0, intake)
    assert stop.rests == [GRACE_SECONDS, REST_SECONDS, GRACE_SECONDS]


def test_writers_a_batch_held_up_get_to_commit_before_intake_is_judged_paused() -> None:
    """A report being filed during a batch waits for it, and commits only once the dispatcher
    lets go: looking at once would find nothing new, and batch after batch would starve it."""
    filed = [7]
    intake = Intake(mark=lambda: filed[0])
    intake.look()  # the look before the batch
    stop = Stop(meanwhile=lambda: filed.__setitem__(0, filed[0] + 1))
    rest_while_busy(stop, 0.5, intake)
    assert stop.rests[:2] == [GRACE_SECONDS, REST_SECONDS]


def test_the_rest_ends_when_the_worker_stops() -> None:
    looks = newest(1, 2)
    stop = Stop(stopped=True)
    assert not rest_while_busy(stop, 60.0, Intake(mark=lambda: next(looks)))  # type: ignore[arg-type]
    assert stop.rests == [GRACE_SECONDS]


def test_the_rest_never_exceeds_what_the_pace_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.0, 0.15, 0.3])
    monkeypatch.setattr(dispatcher.time, "monotonic", lambda: next(clock))
    looks = newest(1, 2, 3)
    stop = Stop()
    # Intake was still busy when the rest ran out.
    assert not rest_while_busy(stop, 0.3, Intake(mark=lambda: next(looks)))  # type: ignore[arg-type]
    assert stop.rests == [GRACE_SECONDS, REST_SECONDS, pytest.approx(0.15)]


@pytest.mark.django_db
def test_intake_is_busy_while_tickets_are_filed_or_payloads_received(
    people: dict[str, User],
) -> None:
    intake = Intake()
    assert not intake.look()  # the first look: assumed busy
    assert intake.look()
    TicketFactory(by=people["submitter"])
    assert not intake.look()
    assert intake.look()
    # An alert that only repeats a known fault files no ticket; its payload is still stored.
    store_inbound(integration=None, channel="alertmanager", body=b"{}")
    assert not intake.look()
    assert intake.look()


def always_busy() -> Intake:
    """Intake that never pauses: a report filed or an alert stored at every look."""
    return Intake(mark=count().__next__)


# What a round of dispatching takes on the dispatcher's clock, per ticket.
TICKET_SECONDS = 0.002


def on_the_clock_of(stop: Stop, monkeypatch: pytest.MonkeyPatch, run: Callable[[int], int],
                    *, rounds: int | None = None) -> tuple[Dispatching, list[int]]:
    """``run`` as the dispatcher's work, each round taking ``TICKET_SECONDS`` a ticket on the
    clock that ``stop`` keeps; the worker stops after ``rounds`` rounds, or by default after
    the first round that leaves nothing waiting. Also the list of each round's limit, as the
    dispatcher asked it."""
    monkeypatch.setattr(dispatcher.time, "monotonic", lambda: stop.now)
    limits: list[int] = []

    def round_(limit: int) -> int:
        limits.append(limit)
        done = run(limit)
        stop.now += TICKET_SECONDS * done
        stop.stopped = len(limits) >= rounds if rounds else done < limit
        return done

    return Dispatching(round_, BATCH, BUSY_BATCH), limits


def backlog(waiting: int) -> Callable[[int], int]:
    """Dispatching from ``waiting`` tickets, as many as each round may take."""
    left = [waiting]

    def run(limit: int) -> int:
        done = min(limit, left[0])
        left[0] -= done
        return done

    return run


def assert_paced_for(vendor: str, rests: list[float], limits: list[int]) -> None:
    """On SQLite, intake had about 1 - SHARE_WHILE_BUSY of the time after each round, which
    took a small batch; on PostgreSQL each full batch followed the last at once."""
    if vendor == "sqlite":
        assert set(limits) == {BUSY_BATCH}
        busy, last = rests[:-1], rests[-1]
        assert busy[0] == GRACE_SECONDS and last == REST_SECONDS
        rounds = len(limits) - 1
        took = TICKET_SECONDS * BUSY_BATCH
        assert took / (took + sum(busy) / rounds) == pytest.approx(SHARE_WHILE_BUSY, rel=0.01)
    else:
        assert set(limits) == {BATCH}
        assert rests == [0.0, 0.0, REST_SECONDS]


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_only_sqlite_yields_to_intake_during_a_burst(
    monkeypatch: pytest.MonkeyPatch, vendor: str,
) -> None:
    """SQLite's writers wait for the dispatcher's whole transaction; PostgreSQL's do not, so
    there a burst is worked off batch after batch, with no rest until it is gone."""
    stop = Stop(at_most=500)
    dispatching, limits = on_the_clock_of(stop, monkeypatch, backlog(2 * BATCH + 3))
    run_forever(stop, dispatching, vendor=vendor, intake=always_busy())
    assert_paced_for(vendor, stop.rests, limits)


@pytest.mark.django_db
def test_a_pause_in_intake_brings_full_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """While intake stays busy the backlog goes a little at a time; the first look that finds
    it paused lets the dispatcher take full batches, one after the other."""
    looks = iter([1, 2, 3, 3, 3, 3, 3, 3])
    stop = Stop(at_most=50)
    dispatching, limits = on_the_clock_of(stop, monkeypatch, backlog(3 * BATCH))
    run_forever(stop, dispatching, vendor="sqlite", intake=Intake(mark=looks.__next__))
    # Busy at the first look, and at the second; paused at the third.
    assert limits[:2] == [BUSY_BATCH, BUSY_BATCH]
    assert set(limits[2:]) == {BATCH}
    assert sum(min(limit, 3 * BATCH) for limit in limits) >= 3 * BATCH


@pytest.mark.django_db
def test_a_look_after_each_quiet_rest_sizes_the_next_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With nothing to do, the dispatcher rests and looks at intake: while nothing arrives
    the next round may take a full batch; once reports arrive, a small one, as the start of a
    burst needs."""
    looks = iter([7, 7, 8])
    intake = Intake(mark=looks.__next__)
    intake.look()
    stop = Stop(at_most=3)
    dispatching, limits = on_the_clock_of(stop, monkeypatch, backlog(0), rounds=3)
    run_forever(stop, dispatching, vendor="sqlite", intake=intake)
    # Busy until a look says otherwise; quiet at the next look; then a report arrived.
    assert limits == [BUSY_BATCH, BATCH, BUSY_BATCH]
    assert stop.rests == [REST_SECONDS] * 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_burst_is_paced_for_the_database_it_is_dispatched_on(
    people: dict[str, User], settings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two batches and one ticket filed while intake stays busy, dispatched on the test's
    database (run on PostgreSQL too): they wait for no quiet moment there."""
    settings.OPSDESK_DISPATCH = "worker"
    for _ in range(2 * BATCH + 1):
        TicketFactory(by=people["submitter"])
    stop = Stop(at_most=500)
    dispatching, limits = on_the_clock_of(stop, monkeypatch, dispatch_due)
    run_forever(stop, dispatching, intake=always_busy())
    assert not Ticket.objects.filter(dispatched=False).exists()
    assert_paced_for(connection.vendor, stop.rests, limits)
