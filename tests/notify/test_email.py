"""Notifications by email, received by a real SMTP server: each reader's language and zone,
one message per notification however often it is asked for, nothing for a rolled-back change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from opsdesk.accounts.models import User
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.services import notify
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.notify.conftest import Mailbox, subject

DUE = datetime(2026, 12, 1, 2, 15, tzinfo=UTC)


def warn(ticket: Ticket, recipients: list[Any], key: str = "sla:warning") -> list[Delivery]:
    return notify(
        kind="sla_warning", ticket=ticket, recipients=recipients,
        context={"clock": "response", "due_at": DUE}, dedupe_key=key,
    )


def test_each_reader_gets_the_warning_in_their_language_and_time_zone(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any]
) -> None:
    committed(warn, ticket=ticket, recipients=[readers["zh"], readers["en"]])

    [zh] = smtp_server.to("wanglei@example.com")
    assert subject(zh) == f"[{ticket.key}] SLA 即将超时：支付回调超时"
    body = zh.get_content()
    assert f"{ticket.key} 的响应时限即将到期：将于 2026-12-01 10:15 Asia/Shanghai 到期。" in body
    assert "解决时限：2026-12-01 18:00 Asia/Shanghai" in body
    assert f"查看：http://127.0.0.1:8000/tickets/{ticket.key}/" in body

    [en] = smtp_server.to("alice@example.com")
    assert subject(en) == f"[{ticket.key}] SLA at risk: 支付回调超时"
    body = en.get_content()
    assert f"The response deadline of {ticket.key} is near: it falls due at " \
           "2026-12-01 02:15 Europe/London." in body
    assert "Deadline: 2026-12-01 10:00 Europe/London" in body
    assert "Priority: High" in body

    rows = {d.recipient: d for d in Delivery.objects.all()}
    assert rows[readers["zh"]].language == "zh-hans"
    assert rows[readers["en"]].language == "en"
    assert all(d.status == DeliveryStatus.SENT and d.sent_at and d.attempts == 1
               for d in rows.values())


def test_mail_is_marked_automatic_and_threads_by_ticket(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any],
    settings: Any,
) -> None:
    settings.OPSDESK_BASE_URL = "https://desk.example.cn/"
    committed(warn, ticket=ticket, recipients=[readers["en"]])

    [mail] = smtp_server.messages
    delivery = Delivery.objects.get()
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"] == f"<notify.{delivery.pk}@localhost>"
    assert mail["References"] == f"<ticket.{ticket.key}@localhost>"
    assert f"Open: https://desk.example.cn/tickets/{ticket.key}/" in mail.get_content()


def test_a_reader_without_a_language_reads_the_site_language(
    smtp_server: Mailbox, make_user: Callable[..., User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    someone = make_user(language="", email="someone@example.com")
    committed(warn, ticket=ticket, recipients=[someone])
    [mail] = smtp_server.messages
    assert "SLA 即将超时" in subject(mail)


def test_the_same_notification_is_mailed_once(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any]
) -> None:
    first = committed(warn, ticket=ticket, recipients=[readers["en"]])
    again = committed(warn, ticket=ticket, recipients=[readers["en"]])
    assert len(first) == 1 and again == []
    assert len(smtp_server.messages) == 1

    committed(warn, ticket=ticket, recipients=[readers["en"]], key="sla:breach")
    assert len(smtp_server.messages) == 2


def test_a_rolled_back_change_notifies_nobody(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        warn(ticket, [readers["en"]])
        raise RuntimeError("the change failed")
    assert not Delivery.objects.exists()
    assert smtp_server.messages == []


def test_the_timeline_says_who_was_notified(
    smtp_server: Mailbox, readers: dict[str, User], people: dict[str, User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    committed(warn, ticket=ticket, recipients=[readers["zh"], readers["en"]])
    warnings = TimelineEvent.objects.filter(ticket=ticket, kind="notification",
                                            data__notification="sla_warning")
    event = warnings.get()
    assert event.internal
    assert event.data["notification"] == "sla_warning"
    assert {(r["name"], tuple(r["channels"])) for r in event.data["recipients"]} == {
        ("王磊", ("email",)), ("Alice", ("email",))
    }

    committed(warn, ticket=ticket, recipients=[readers["en"]])  # a repeat: nothing new to say
    assert warnings.count() == 1


def test_people_who_cannot_be_reached_are_skipped(
    smtp_server: Mailbox, make_user: Callable[..., User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    no_address = make_user(email="")
    gone = make_user(is_active=False)
    before = TimelineEvent.objects.filter(kind="notification").count()
    assert committed(warn, ticket=ticket, recipients=[no_address, gone, None]) == []
    assert smtp_server.messages == []
    assert TimelineEvent.objects.filter(kind="notification").count() == before


def test_a_notification_without_a_ticket(
    smtp_server: Mailbox, readers: dict[str, User], committed: Callable[..., Any]
) -> None:
    committed(
        notify, kind="inspection_overdue", ticket=None, recipients=[readers["zh"]],
        context={"plan": "每日数据库巡检", "due_at": DUE}, dedupe_key="inspection:7:2026-12-01",
    )
    [mail] = smtp_server.messages
    assert subject(mail) == "巡检逾期：每日数据库巡检"
    assert mail.get_content().strip() == (
        "巡检“每日数据库巡检”应于 2026-12-01 10:15 Asia/Shanghai 执行，至今尚未执行。"
    )
