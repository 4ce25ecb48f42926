"""What people read when a threshold fires: the deadline itself in their own time zone, and the
threshold in words, in the notification and on the ticket page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from opsdesk.accounts.models import User
from opsdesk.notify.models import Delivery
from opsdesk.sla import services as sla
from tests.conftest import Api
from tests.sla.filing import complete

SH = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def file(api: Api, **fields: Any) -> str:
    body = complete(**{
        "title": "支付回调超时", "impact": "all_users", "urgency": "immediate", **fields,
    })
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.json()
    return str(response.json()["key"])


def bodies(user: User, kind: str) -> list[str]:
    rows = Delivery.objects.filter(recipient=user, notification_kind=kind).order_by("id")
    return [f"{row.subject}\n{row.body}" for row in rows]


def readers(people: dict[str, User]) -> None:
    """The module owner reads English in Berlin; the duty engineer Chinese in Shanghai."""
    people["owner"].language, people["owner"].time_zone = "en", "Europe/Berlin"
    people["duty"].language, people["duty"].time_zone = "zh-hans", "Asia/Shanghai"
    for user in (people["owner"], people["duty"]):
        user.save()


def test_every_threshold_names_the_deadline_in_the_readers_zone_and_how_far_along(
    api, people, payment
):
    readers(people)
    start = at(2026, 11, 18, 3, 0)  # an urgent alert at 3 a.m.: response due 03:15
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["duty"], module="payment", source_kind="alert",
                   submitter_name="Alertmanager")
        for minutes in (12, 16, 31):  # past 75%, 100% and 200% of the 15 minutes
            travel.move_to(start + timedelta(minutes=minutes))
            sla.sweep()

    # In Berlin 03:15 in Shanghai is 20:15 the evening before.
    [warning] = bodies(people["owner"], "sla_warning")
    assert f"The response deadline of {key} is near: 75% of the time used, due " \
           "2026-11-17 20:15 Europe/Berlin." in warning
    breach, severe = bodies(people["owner"], "sla_breach")
    assert f"{key} has missed its response deadline: all of the time used, due " \
           "2026-11-17 20:15 Europe/Berlin." in breach
    assert f"{key} is overdue by 15 minutes, twice its time: its response deadline was " \
           "2026-11-17 20:15 Europe/Berlin." in severe
    for body in (warning, breach, severe):
        assert "20:11" not in body and "20:30" not in body  # the moments reached are not due

    for body in bodies(people["duty"], "sla_breach"):
        assert "2026-11-18 03:15 Asia/Shanghai" in body
        assert "03:30" not in body


def test_a_business_hours_warning_in_berlin(api, people, payment):
    readers(people)
    # Wednesday 22:40, high: the response clock starts at 09:00 Thursday, 15 minutes, so it
    # is due 09:15 in Shanghai, 02:15 in Berlin; 75% is reached at 09:11:15.
    with time_machine.travel(at(2026, 11, 18, 22, 40), tick=False) as travel:
        file(api["duty"], impact="some_users", urgency="high", module="payment",
             submitter=people["submitter"].username)
        travel.move_to(at(2026, 11, 19, 9, 12))
        sla.sweep()
    [warning] = bodies(people["owner"], "sla_warning")
    assert "due 2026-11-19 02:15 Europe/Berlin" in warning


def test_a_resolution_target_in_business_days_reads_as_entered_when_overdue(
    api, people, payment
):
    readers(people)
    start = at(2026, 11, 18, 10, 0)  # Wednesday, high: one business day
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["duty"], impact="some_users", urgency="high", module="payment",
                   submitter=people["submitter"].username)
        api["owner"].act(key, "acknowledge")
        travel.move_to(at(2026, 11, 20, 10, 0))  # two working days on: +100%
        sla.sweep()
    severe = bodies(people["owner"], "sla_breach")[-1]
    assert f"{key} is overdue by 1 business day, twice its time: its resolution deadline " \
           "was 2026-11-19 03:00 Europe/Berlin." in severe


def test_the_ticket_page_shows_deadlines_thresholds_and_targets_as_entered(
    api, people, payment
):
    start = at(2026, 11, 18, 3, 0)
    with time_machine.travel(start, tick=False) as travel:
        key = file(api["duty"], module="payment", source_kind="alert",
                   submitter_name="Alertmanager")
        for minutes in (12, 31):
            travel.move_to(start + timedelta(minutes=minutes))
            sla.sweep()
        people["owner"].language, people["owner"].time_zone = "en", "Asia/Shanghai"
        people["owner"].save()
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(people["owner"])
        page = browser.get(f"/tickets/{key}/").content.decode()
    assert "response 15 minutes · resolution 4 hours" in page
    assert "75% of the time used" in page
    assert "overdue by 15 minutes" in page
    assert "<dt>Response deadline</dt><dd>2026-11-18 03:15</dd>" in page
