"""The worker's periodic jobs: kept on a clock of seconds, not of loop turns, and never in the
way of the heartbeat that tells the other workers this one is alive."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from opsdesk.runtime import periodic, recovery, worker
from opsdesk.runtime.periodic import Job


class FakeTime:
    """A monotonic clock that moves only when told: by a job taking its time, or by the loop
    waiting for its next job."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return False


class FakeTaskQueue:
    """django-tasks-db's worker loop, which this test does not run."""

    def __init__(self, **_: Any) -> None:
        self.running = True

    def configure_signals(self) -> None:
        pass


@pytest.mark.django_db  # each turn lets go of a connection gone stale
def test_a_slow_job_delays_the_others_only_by_the_time_it_runs() -> None:
    time = FakeTime()
    stop = threading.Event()
    ran: dict[str, list[float]] = {"sweep": [], "orphans": []}

    def walk_the_attachments() -> None:  # the hourly sweep of a large tree: 150 s
        ran["orphans"].append(time.now)
        time.now += 150

    def sweep() -> None:
        ran["sweep"].append(time.now)
        if len(ran["sweep"]) == 5:
            stop.set()

    periodic.run_forever(stop, [Job("orphans", 3600, walk_the_attachments),
                                Job("sweep", 10, sweep)], clock=time, wait=time.wait)
    assert ran["orphans"] == [0]
    # Late once by the 150 s it waited, then every 10 s again: not stretched to 10 loop
    # turns, each as long as the slowest job.
    assert ran["sweep"] == [150, 160, 170, 180, 190]


@pytest.mark.django_db  # each turn lets go of a connection gone stale
def test_a_failing_job_waits_longer_before_its_next_try() -> None:
    time = FakeTime()
    stop = threading.Event()
    tries: list[float] = []

    def fetch_mail() -> None:
        tries.append(time.now)
        if len(tries) == 3:
            stop.set()
        raise ConnectionError("IMAP server unreachable")

    periodic.run_forever(stop, [Job("fetchmail", 0.1, fetch_mail)], clock=time, wait=time.wait)
    assert tries == pytest.approx([0, 0.5, 1.5])  # the backoff's 0.5 s, then 1 s


def test_a_job_slower_than_the_heartbeat_does_not_hold_the_heartbeat_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real worker's threads, with a job that blocks until the end of the test and a
    heartbeat every 10 ms: the worker keeps beating meanwhile."""
    beats: list[str] = []
    three_beats, job_running, release = threading.Event(), threading.Event(), threading.Event()

    def beat(worker_id: str, **_: Any) -> None:
        beats.append(worker_id)
        if len(beats) >= 3:
            three_beats.set()

    def fetch_mail_from_a_server_that_hangs() -> None:
        job_running.set()
        release.wait(30)

    with_heartbeat_if_any = periodic.default_jobs

    def jobs(identity: worker.Identity | None = None) -> list[Job]:
        # The slow job first, and the heartbeat if the jobs still carry it.
        return [Job("fetchmail", 60, fetch_mail_from_a_server_that_hangs),
                *(j for j in with_heartbeat_if_any(identity) if j.name == "heartbeat")]

    held_up: list[bool] = []

    def run_tasks(_worker: Any, _identity: worker.Identity) -> None:
        assert job_running.wait(10)
        held_up.append(not three_beats.wait(10))

    monkeypatch.setattr(recovery, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(recovery, "beat", beat)
    monkeypatch.setattr(recovery, "stop_beating", lambda worker_id: None)
    monkeypatch.setattr(periodic, "default_jobs", jobs)
    monkeypatch.setattr(worker.dispatcher, "start", lambda stop: None)
    monkeypatch.setattr(worker, "Worker", FakeTaskQueue)
    monkeypatch.setattr(worker, "run_tasks", run_tasks)
    try:
        worker.run()
    finally:
        release.set()
    assert held_up == [False]

