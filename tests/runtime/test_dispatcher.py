"""The dispatcher's pacing: it dispatches promptly when a few tickets trickle in, yields the
database to intake while a burst of reports or alerts arrives, catches up as soon as intake
pauses, and takes turns with intake once a backlog is old."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from opsdesk.accounts.models import User
from opsdesk.intake.services import store_inbound
from opsdesk.runtime import dispatcher
from opsdesk.runtime.dispatcher import (
    CATCH_UP_AFTER,
    GRACE_SECONDS,
    REST_SECONDS,
    SHARE_WHILE_BUSY,
    Intake,
    Pace,
    rest_while_busy,
)
from opsdesk.tickets.dispatch import BATCH
from tests.factories import TicketFactory


class Stop:
    """A stop event that records the rests asked of it instead of sleeping, and runs
    ``meanwhile`` during each (what other processes do while the dispatcher rests)."""

    def __init__(self, *, stopped: bool = False,
                 meanwhile: Callable[[], object] = lambda: None) -> None:
        self.rests: list[float] = []
        self.stopped = stopped
        self.meanwhile = meanwhile

    def wait(self, timeout: float) -> bool:
        self.rests.append(timeout)
        self.meanwhile()
        return self.stopped


def newest(*ids: int | None) -> Iterator[int | None]:
    yield from ids
    raise AssertionError("looked more often than expected")


def test_a_trickle_is_dispatched_after_a_short_rest() -> None:
    pace = Pace()
    assert pace.rest(done=3, took=0.01, now=100.0) == (REST_SECONDS, False)
    assert pace.rest(done=0, took=0.001, now=100.2) == (REST_SECONDS, False)


def test_a_young_backlog_leaves_most_of_the_time_to_intake() -> None:
    seconds, while_filing = Pace().rest(done=BATCH, took=0.1, now=100.0)
    assert while_filing
    assert 0.1 / (0.1 + seconds) == pytest.approx(SHARE_WHILE_BUSY)


def test_an_old_backlog_takes_turns_with_intake_until_it_is_gone() -> None:
    pace = Pace()
    pace.rest(done=BATCH, took=0.1, now=100.0)
    assert pace.rest(done=BATCH, took=0.1, now=99.9 + CATCH_UP_AFTER) == (0.1, False)
    assert pace.rest(done=BATCH - 1, took=0.1, now=100.0 + CATCH_UP_AFTER) == (
        REST_SECONDS, False)
    # The backlog was worked off: the next one is young again.
    assert pace.rest(done=BATCH, took=0.1, now=200.0)[1] is True


def test_the_rest_lasts_while_reports_or_alerts_keep_arriving() -> None:
    looks = newest(10, 25, 40, 40)
    stop = Stop()
    rest_while_busy(stop, 60.0, Intake(mark=lambda: next(looks)))  # type: ignore[arg-type]
    assert stop.rests == [GRACE_SECONDS] + [REST_SECONDS] * 3


def test_the_rest_ends_at_once_when_nothing_arrived_since_the_last_look() -> None:
    looks = newest(40, 40, 40)
    intake = Intake(mark=lambda: next(looks))  # type: ignore[arg-type]
    stop = Stop()
    rest_while_busy(stop, 60.0, intake)  # the first look ever finds intake busy; the next not
    assert stop.rests == [GRACE_SECONDS, REST_SECONDS]
    rest_while_busy(stop, 60.0, intake)
    assert stop.rests == [GRACE_SECONDS, REST_SECONDS, GRACE_SECONDS]


def test_writers_a_batch_held_up_get_to_commit_before_intake_is_judged_paused() -> None:
    """A report being filed during a batch waits for it, and commits only once the dispatcher
    lets go: looking at once would find nothing new, and batch after batch would starve it."""
    filed = [7]
    intake = Intake(mark=lambda: filed[0])
    intake.paused()  # the look before the batch
    stop = Stop(meanwhile=lambda: filed.__setitem__(0, filed[0] + 1))
    rest_while_busy(stop, 0.5, intake)
    assert stop.rests[:2] == [GRACE_SECONDS, REST_SECONDS]


def test_the_rest_ends_when_the_worker_stops() -> None:
    looks = newest(1, 2)
    stop = Stop(stopped=True)
    rest_while_busy(stop, 60.0, Intake(mark=lambda: next(looks)))  # type: ignore[arg-type]
    assert stop.rests == [GRACE_SECONDS]


def test_the_rest_never_exceeds_what_the_pace_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 0.0, 0.15, 0.3])
    monkeypatch.setattr(dispatcher.time, "monotonic", lambda: next(clock))
    looks = newest(1, 2, 3)
    stop = Stop()
    rest_while_busy(stop, 0.3, Intake(mark=lambda: next(looks)))  # type: ignore[arg-type]
    assert stop.rests == [GRACE_SECONDS, REST_SECONDS, pytest.approx(0.15)]


@pytest.mark.django_db
def test_intake_is_busy_while_tickets_are_filed_or_payloads_received(
    people: dict[str, User],
) -> None:
    intake = Intake()
    assert not intake.paused()  # the first look: assumed busy
    assert intake.paused()
    TicketFactory(by=people["submitter"])
    assert not intake.paused()
    assert intake.paused()
    # An alert that only repeats a known fault files no ticket; its payload is still stored.
    store_inbound(integration=None, channel="alertmanager", body=b"{}")
    assert not intake.paused()
    assert intake.paused()
