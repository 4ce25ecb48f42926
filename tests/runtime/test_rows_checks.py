"""rows.py writes without ``save()`` and its signals: start-up refuses a model it writes that
relies on either, naming the model and the reason; the project's own models pass."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import models
from django.db.models import signals
from django.test.utils import isolate_apps

from opsdesk.runtime import row_checks
from opsdesk.tickets.models import Ticket, TimelineEvent


def errors() -> list[str]:
    return [error.msg for error in row_checks.check_rows_models()]


def test_the_models_rows_writes_pass_the_check() -> None:
    assert errors() == []


def test_a_save_override_on_a_written_model_fails_start_up(monkeypatch: Any) -> None:
    def save(self: Ticket, *args: Any, **kwargs: Any) -> None:
        self.title = self.title.strip()
        models.Model.save(self, *args, **kwargs)

    monkeypatch.setattr(Ticket, "save", save)
    with pytest.raises(SystemCheckError, match=r"tickets\.Ticket .*overrides save\(\)"):
        call_command("check")


def test_a_reviewed_save_override_that_changed_fails_the_check(monkeypatch: Any) -> None:
    monkeypatch.setitem(row_checks.REVIEWED_SAVE_OVERRIDES, "tickets.TimelineEvent",
                        "0123456789ab")
    [found] = errors()
    assert "tickets.TimelineEvent" in found
    assert f"now {row_checks.source_digest(TimelineEvent.save)}" in found


@pytest.fixture(params=["pre_save", "post_save"])
def receiver_on_ticket(request: pytest.FixtureRequest) -> Iterator[str]:
    signal = row_checks.SAVE_SIGNALS[request.param]

    def receiver(**kwargs: Any) -> None:
        """Stands for a receiver someone might add; never called here."""

    signal.connect(receiver, sender=Ticket, weak=False, dispatch_uid="test-rows-checks")
    try:
        yield request.param
    finally:
        signal.disconnect(sender=Ticket, dispatch_uid="test-rows-checks")


def test_a_save_signal_receiver_on_a_written_model_fails_the_check(
    receiver_on_ticket: str,
) -> None:
    [found] = errors()
    assert "tickets.Ticket" in found
    assert f"a {receiver_on_ticket} receiver listens to it" in found


def test_a_reviewed_receiver_passes_until_its_source_changes(monkeypatch: Any) -> None:
    """The task queue's own pre_save receiver was read and passes; the same receiver with
    another digest on record (its source edited since) fails, naming both digests."""
    key = ("django_tasks_database.DBTaskResult", "django_tasks_db.signal_handlers.set_run_after")
    assert key in row_checks.REVIEWED_RECEIVERS and errors() == []
    monkeypatch.setitem(row_checks.REVIEWED_RECEIVERS, key, "0123456789ab")
    [found] = errors()
    assert "set_run_after changed since it was reviewed (0123456789ab, now" in found


def test_a_receiver_without_readable_source_is_reported_not_crashed_on() -> None:
    """A receiver made with functools.partial has no source to pin: it is named and refused."""
    receiver = functools.partial(lambda marker, **kwargs: None, "partial")
    signals.pre_save.connect(receiver, sender=Ticket, weak=False, dispatch_uid="test-partial")
    try:
        [found] = errors()
    finally:
        signals.pre_save.disconnect(sender=Ticket, dispatch_uid="test-partial")
    assert "tickets.Ticket" in found and "functools.partial" in found


def test_a_receiver_for_every_model_counts_too() -> None:
    def receiver(**kwargs: Any) -> None:
        """Stands for a receiver of every model's saves; never called here."""

    signals.post_save.connect(receiver, weak=False, dispatch_uid="test-rows-checks-all")
    try:
        assert len(errors()) == len(row_checks.WRITTEN_MODELS)
    finally:
        signals.post_save.disconnect(dispatch_uid="test-rows-checks-all")


@isolate_apps("opsdesk.runtime")
def test_a_model_with_a_parent_table_is_refused() -> None:
    class Parent(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "runtime"

        def __str__(self) -> str:
            return self.name

    class Child(Parent):
        size = models.IntegerField()

        class Meta:
            app_label = "runtime"

        def __str__(self) -> str:
            return f"{self.name} ({self.size})"

    [found] = row_checks.problems(Child)
    assert "multi-table inheritance" in found
    assert row_checks.problems(Parent) == []
