"""Each person's choices: quiet hours (on their own clock) hold messages that are not urgent
until they end, urgent ones go through; which kinds each way of reaching them carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.notify.models import Delivery, Preferences
from opsdesk.notify.quiet import quiet_until
from opsdesk.notify.services import add_channel, notify, set_preferences
from opsdesk.notify.tasks import retry_due_deliveries
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.models import Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("local", "start", "end", "until"), [
    ("23:30", "22:00", "07:00", "2026-12-02 07:00"),  # across midnight, before it
    ("06:59", "22:00", "07:00", "2026-12-01 07:00"),  # across midnight, after it
    ("22:00", "22:00", "07:00", "2026-12-02 07:00"),  # the start is quiet
    ("07:00", "22:00", "07:00", None),  # the end is not
    ("12:30", "12:00", "13:30", "2026-12-01 13:30"),  # within a day
    ("14:00", "12:00", "13:30", None),
])
def test_the_quiet_period_a_moment_falls_in(local: str, start: str, end: str,
                                            until: str | None) -> None:
    now = datetime.fromisoformat(f"2026-12-01 {local}").replace(tzinfo=SHANGHAI)
    found = quiet_until(start=time.fromisoformat(start), end=time.fromisoformat(end),
                        zone=SHANGHAI, now=now)
    expected = None if until is None else datetime.fromisoformat(until).replace(tzinfo=SHANGHAI)
    assert found == expected


@pytest.fixture
def sleeper(make_user: Callable[..., User]) -> User:
    user = make_user(Role.OWNER, language="en", time_zone="Asia/Shanghai",
                     email="sleeper@corp.example")
    set_preferences(user=user, email_kinds=None, quiet_start=time(22), quiet_end=time(7))
    return user


def _tell(ticket: Ticket, user: User, key: str) -> list[Delivery]:
    return notify(kind=K.PLAN_APPROVED, ticket=ticket, recipients=[user],
                  context={"plan": 1}, dedupe_key=key)


NIGHT = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai


def test_a_message_at_night_waits_for_the_morning_and_then_goes(
    sleeper: User, ticket: Ticket, committed: Callable[..., Any],
) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(priority=Priority.MEDIUM)
    ticket.refresh_from_db()
    with time_machine.travel(NIGHT, tick=False) as clock:
        [held] = committed(_tell, ticket=ticket, user=sleeper, key="night")
        assert held.next_attempt_at == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 07:00
        assert mail.outbox == []
        event = ticket.timeline.filter(kind="notification").last()
        assert event is not None
        assert event.data["recipients"][0]["held_until"] == held.next_attempt_at.isoformat()

        clock.move_to(datetime(2026, 12, 1, 23, 5, tzinfo=UTC))  # 07:05: the sweep
        assert retry_due_deliveries() == 1
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT
    assert [m.to for m in mail.outbox] == [["sleeper@corp.example"]]


def test_urgent_and_high_tickets_go_through_quiet_hours(
    sleeper: User, ticket: Ticket, committed: Callable[..., Any],
) -> None:
    assert ticket.priority == Priority.HIGH
    with time_machine.travel(NIGHT, tick=False):
        [sent] = committed(_tell, ticket=ticket, user=sleeper, key="night")
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_a_kind_left_out_of_the_account_mail_is_not_sent(
    make_user: Callable[..., User], ticket: Ticket, committed: Callable[..., Any],
) -> None:
    user = make_user(Role.OWNER, email="picky@corp.example")
    set_preferences(user=user, email_kinds=[K.ASSIGNED], quiet_start=None, quiet_end=None)
    assert committed(_tell, ticket=ticket, user=user, key="k1") == []
    assert len(committed(notify, kind=K.ASSIGNED, ticket=ticket, recipients=[user],
                         dedupe_key="k2")) == 1


def test_preferences_that_make_no_sense_are_refused(make_user: Callable[..., User]) -> None:
    user = make_user(email="x@corp.example")
    with pytest.raises(ValidationError):
        set_preferences(user=user, email_kinds=None, quiet_start=time(22), quiet_end=None)
    with pytest.raises(ValidationError):
        set_preferences(user=user, email_kinds=None, quiet_start=time(8), quiet_end=time(8))
    with pytest.raises(ValidationError):
        set_preferences(user=user, email_kinds=["gossip"], quiet_start=None, quiet_end=None)
    assert not Preferences.objects.exists()


def test_the_preferences_page_sets_quiet_hours_and_kinds_per_channel(
    make_user: Callable[..., User], browser_as: Any,
) -> None:
    user = make_user(Role.OWNER, email="me@corp.example")
    robot = add_channel(owner=user, kind="dingtalk", target="dingtalk://0123456789abcdef0123/")
    browser = browser_as(user, "en")
    page = browser.get("/accounts/notifications/")
    assert page.status_code == 200 and "DingTalk" in page.content.decode()
    saved = browser.post("/accounts/notifications/", {
        "quiet_start": "22:00", "quiet_end": "07:00",
        f"channel-{robot.pk}": [K.ASSIGNED, K.SLA_BREACH]})
    assert saved.status_code == 302
    robot.refresh_from_db()
    assert robot.kinds == [K.ASSIGNED, K.SLA_BREACH] and robot.enabled
    prefs = Preferences.objects.get(user=user)
    assert (prefs.quiet_start, prefs.quiet_end) == (time(22), time(7))

    # Nothing ticked turns the channel off; a bad time is refused, nothing saved.
    browser.post("/accounts/notifications/", {"quiet_start": "", "quiet_end": ""})
    robot.refresh_from_db()
    assert not robot.enabled
    # With no channel on, messages go to the account's address: the page offers its kinds.
    assert "Mail to me@corp.example" in browser.get("/accounts/notifications/").content.decode()
    refused = browser.post("/accounts/notifications/", {"quiet_start": "25:00",
                                                        "quiet_end": "07:00"})
    assert refused.status_code == 422
    assert Preferences.objects.get(user=user).quiet_start is None


def test_the_account_mail_row_when_no_channel_is_set_up(
    make_user: Callable[..., User], browser_as: Any,
) -> None:
    user = make_user(Role.SUBMITTER, email="me@corp.example")
    browser = browser_as(user, "en")
    assert "Mail to me@corp.example" in browser.get("/accounts/notifications/").content.decode()
    browser.post("/accounts/notifications/", {"email": [K.RECEIVED, K.VERIFY]})
    assert Preferences.objects.get(user=user).email_kinds == [K.RECEIVED, K.VERIFY]
    every = [kind.value for kind in K]
    browser.post("/accounts/notifications/", {"email": every})
    assert Preferences.objects.get(user=user).email_kinds is None

