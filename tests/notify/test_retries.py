"""Failed deliveries: recorded with their reason, retried with exponential backoff, abandoned
after the last attempt, never sent twice; and a robot's URL never shows in a log or an error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.services import add_channel, notify, retry_delivery
from opsdesk.notify.tasks import SWEEP_GRACE, deliver, retry_due_deliveries
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.notify.conftest import Mailbox, Receiver, free_port

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
SECRET_TOKEN = "5ec12e7d1ce70ken0123456789abcdef"


def page(ticket: Ticket, recipients: list[Any], key: str = "emergency:1") -> list[Delivery]:
    return notify(kind="emergency", ticket=ticket, recipients=recipients,
                  context={"reason": "支付全部失败"}, dedupe_key=key)


@pytest.fixture
def traveller() -> Any:
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


def test_a_failing_channel_is_retried_with_backoff_then_abandoned(
    readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any], settings: Any,
    traveller: Any,
) -> None:
    settings.OPSDESK_NOTIFY_MAX_ATTEMPTS = 4
    add_channel(owner=readers["en"], kind="webhook",
                target=f"http://127.0.0.1:{free_port()}/hooks/{SECRET_TOKEN}")
    committed(page, ticket=ticket, recipients=[readers["en"]])

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "Connection refused" in delivery.last_error
    waits = [delivery.next_attempt_at - START]
    assert retry_due_deliveries() == 0  # not due yet

    for attempt in (2, 3):
        traveller.shift(waits[-1] + SWEEP_GRACE)
        now = datetime.now(UTC)
        assert retry_due_deliveries() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, attempt)
        waits.append(delivery.next_attempt_at - now)

    # 1, 2, 4 minutes (to the second: the attempt itself takes a moment).
    assert [round(wait.total_seconds() / 60) for wait in waits] == [1, 2, 4]

    traveller.shift(waits[-1] + SWEEP_GRACE)
    assert retry_due_deliveries() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.ABANDONED, 4, None
    )
    assert retry_due_deliveries() == 0
    abandoned = TimelineEvent.objects.filter(ticket=ticket, data__has_key="abandoned").get()
    assert abandoned.data["abandoned"]["attempts"] == 4
    assert abandoned.data["abandoned"]["channel"] == "webhook"


def test_a_backend_that_can_defer_gets_the_retry_at_its_due_moment(
    readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any], settings: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    add_channel(owner=readers["en"], kind="webhook", target=f"http://127.0.0.1:{free_port()}/h")
    committed(page, ticket=ticket, recipients=[readers["en"]])
    delivery = Delivery.objects.get()
    queue = deliver.get_backend()
    [first] = queue.results  # the round's deliveries, enqueued on commit, not yet run
    assert first.args == [[delivery.pk]] and first.task.run_after is None

    assert deliver.call(delivery.pk) == "failed"
    delivery.refresh_from_db()
    [_first, retry] = queue.results
    assert retry.args == [delivery.pk]
    assert retry.task.run_after == delivery.next_attempt_at


def test_a_webhook_error_answer_is_recorded_and_a_later_attempt_succeeds(
    receiver: Receiver, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any],
    traveller: Any,
) -> None:
    receiver.answers = [503]
    add_channel(owner=readers["en"], kind="webhook", target=receiver.url + "/h")
    committed(page, ticket=ticket, recipients=[readers["en"]])
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "the webhook answered HTTP 503 Service Unavailable"

    traveller.shift(timedelta(minutes=1) + SWEEP_GRACE)
    retry_due_deliveries()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.SENT, 2, ""
    )
    assert len(receiver.requests) == 2


def test_a_mail_server_that_is_down_is_recorded(
    readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    committed(page, ticket=ticket, recipients=[readers["en"]])
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "Connection refused" in delivery.last_error


def test_a_sent_delivery_is_never_sent_again(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any],
    traveller: Any,
) -> None:
    committed(page, ticket=ticket, recipients=[readers["en"]])
    delivery = Delivery.objects.get()
    # Stray duplicates of its task (a sweep, a retry queued twice) find nothing to do.
    assert deliver.call(delivery.pk) == "skipped"
    traveller.shift(timedelta(hours=1))
    assert retry_due_deliveries() == 0
    assert deliver.call(delivery.pk) == "skipped"
    assert len(smtp_server.messages) == 1


def test_a_delivery_whose_task_was_lost_is_found_by_the_sweep(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, traveller: Any
) -> None:
    # notify() outside captured on-commit callbacks: the rows commit, the enqueue never runs,
    # as when the process dies between the commit and the enqueue.
    page(ticket, [readers["en"]])
    assert smtp_server.messages == []
    traveller.shift(SWEEP_GRACE + timedelta(seconds=1))
    assert retry_due_deliveries() == 1
    assert len(smtp_server.messages) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_an_operator_can_retry_an_abandoned_delivery(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any],
    settings: Any,
) -> None:
    settings.OPSDESK_NOTIFY_MAX_ATTEMPTS = 1
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # the first and only attempt finds nobody listening
    committed(page, ticket=ticket, recipients=[readers["en"]])
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.ABANDONED

    settings.EMAIL_PORT = up
    committed(retry_delivery, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(smtp_server.messages) == 1


def test_a_robot_url_never_reaches_the_logs_or_the_error(
    robots_at: Receiver, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apprise.plugins.dingtalk import NotifyDingTalk

    caplog.set_level(logging.DEBUG)
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(NotifyDingTalk, "notify_url", dead + "/robot/send?access_token={token}")
    add_channel(owner=readers["zh"], kind="dingtalk",
                target=f"dingtalk://SECabcdef012345@{SECRET_TOKEN}/")
    add_channel(owner=readers["en"], kind="webhook",
                target=f"{dead}/hooks/{SECRET_TOKEN}?sig=0f1e2d3c4b5a")
    committed(page, ticket=ticket, recipients=[readers["zh"], readers["en"]])

    deliveries = list(Delivery.objects.all())
    assert {d.status for d in deliveries} == {DeliveryStatus.FAILED}
    assert all(d.last_error for d in deliveries)
    assert any("apprise" in r.name for r in caplog.records)  # apprise did talk, at debug
    for secret in (SECRET_TOKEN, "SECabcdef012345", "0f1e2d3c4b5a"):
        assert secret not in caplog.text
        assert all(secret not in d.last_error for d in deliveries)
        assert all(secret not in str(d) for d in deliveries)


def test_one_delivery_breaking_does_not_hold_back_the_others_of_its_round(
    readers: dict[str, User], ticket: Ticket, smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from opsdesk.notify import senders
    from opsdesk.notify.tasks import deliver_all

    first, second = page(ticket, [readers["en"], readers["zh"]])
    send = senders.send

    def broken_for_the_first(delivery: Delivery) -> None:
        if delivery.pk == first.pk:
            raise RuntimeError("a bug in a sender")
        send(delivery)

    monkeypatch.setattr(senders, "send", broken_for_the_first)
    with caplog.at_level(logging.ERROR):
        assert deliver_all.call([first.pk, second.pk]) == {"broken": 1, "sent": 1}
    assert f"Delivery {first.pk} broke" in caplog.text
    second.refresh_from_db()
    assert second.status == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 1


def test_a_round_of_deliveries_is_claimed_and_recorded_in_two_writes_per_ten(
    make_user: Callable[..., User], ticket: Ticket, smtp_server: Mailbox,
) -> None:
    # On SQLite each write transaction waits for, and holds up, every other writer: a storm's
    # hundreds of deliveries must not take two each.
    from opsdesk.notify.tasks import deliver_all

    people = [make_user(Role.OWNER, email=f"owner{i}@example.com") for i in range(25)]
    deliveries = page(ticket, people)
    with CaptureQueriesContext(connection) as statements:
        assert deliver_all.call([d.pk for d in deliveries]) == {"sent": 25}
    writes = [s for s in statements.captured_queries if s["sql"].startswith("SAVEPOINT")]
    assert len(writes) == 6  # three rounds: a claim and a record each
    assert len(smtp_server.messages) == 25
    assert deliver_all.call([d.pk for d in deliveries]) == {"skipped": 25}
    assert len(smtp_server.messages) == 25


def test_a_delivery_another_claimer_took_meanwhile_is_left_to_it(
    readers: dict[str, User], ticket: Ticket, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Between reading the round and claiming it, another worker takes one of its deliveries:
    # this round claims only the other, and that one's attempt is counted once.
    from django.db.models import F, QuerySet

    from opsdesk.notify import attempts

    first, second = page(ticket, [readers["en"], readers["zh"]])
    read = QuerySet.in_bulk

    def read_then_lose_the_first(queryset: QuerySet[Any], *args: Any, **kwargs: Any) -> Any:
        found = read(queryset, *args, **kwargs)
        Delivery.objects.filter(pk=first.pk).update(attempts=F("attempts") + 1)
        return found

    monkeypatch.setattr(QuerySet, "in_bulk", read_then_lose_the_first)
    claimed = attempts.claim_many([first.pk, second.pk])

    assert [d.pk for d in claimed] == [second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, second.attempts) == (1, 1)
