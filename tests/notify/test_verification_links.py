"""The one-click answers mailed with a fix: signed, expiring, single-use links that need no
password; opening one changes nothing, only its page's form answers; a "not fixed" asks why."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from opsdesk.accounts.models import User
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.notify.models import Delivery, VerificationLink
from opsdesk.runtime.logs import JsonFormatter, ScrubbingFormatter
from opsdesk.tickets.models import Ticket
from tests.conftest import Api
from tests.factories import PLANS, report
from tests.notify.talk import START, Step, links_in, only

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def links(cast: dict[str, User], step: Step) -> dict[str, str]:
    """A fix of the submitter's report waiting for her verification: its two links."""
    submitter, owner, duty = Api(cast["submitter"]), Api(cast["owner"]), Api(cast["duty"])
    key = step(submitter.post, "/tickets", report(impact="few_users", urgency="normal")
               ).json()["key"]
    step(duty.act, key, "triage", assignee=cast["owner"].username)
    step(owner.act, key, "acknowledge")
    step(owner.act, key, "classify", problem_type="environment", module="payment",
         estimate_minutes=30)
    step(owner.act, key, "propose_plan", **PLANS["service_restart"])
    step(owner.post, f"/tickets/{key}/worklog",
         {"command": "systemctl restart nginx", "duration_minutes": 2})
    step(owner.act, key, "resolve", cause="连接池耗尽", solution="重启 nginx",
         time_taken_minutes=15, prevention="连接数告警")
    return links_in(only(cast["submitter"].email, K.VERIFY))


def status() -> str:
    return str(Ticket.objects.get().status)


def test_opening_a_link_changes_nothing_and_shows_the_result(links: dict[str, str]) -> None:
    for path in links.values():
        page = Client().get(path)
        assert page.status_code == 200
        assert page["Referrer-Policy"] == "no-referrer"
        assert page["Cache-Control"] == "no-store"
        assert "连接池耗尽" in page.content.decode()
    assert status() == "awaiting_verification"
    assert VerificationLink.objects.get().used_at is None


def test_confirming_closes_the_ticket_as_the_submitter_once(
    links: dict[str, str], cast: dict[str, User], step: Step,
) -> None:
    page = step(Client().post, links["confirm"])
    assert page.status_code == 200
    assert status() == "closed"
    event = Ticket.objects.get().timeline.filter(data__action="confirm").get()
    assert event.actor == cast["submitter"]
    # Used: neither link works again, whoever tries.
    assert Client().get(links["confirm"]).status_code == 400
    assert Client().post(links["not_fixed"], {"reason": "其实没好"}).status_code == 400
    assert status() == "closed"


def test_not_fixed_needs_her_reason_and_nothing_changes_without_it(
    links: dict[str, str], step: Step,
) -> None:
    refused = Client().post(links["not_fixed"], {"reason": "   "})
    assert refused.status_code == 422
    assert "请告诉我们哪里仍有问题" in refused.content.decode()
    assert status() == "awaiting_verification"
    assert step(Client().post, links["not_fixed"], {"reason": "仍然 502"}).status_code == 200
    assert status() == "planning"
    assert Ticket.objects.get().timeline.filter(data__action="reject_fix",
                                                data__reason="仍然 502").exists()


def test_a_forged_or_altered_link_is_refused(links: dict[str, str]) -> None:
    token = links["confirm"].split("/")[2]
    for path in (f"/verify/{token[:-2]}xx/", "/verify/not-a-token/",
                 links["confirm"].replace(token[5], "A" if token[5] != "A" else "B", 1)):
        assert Client().post(path).status_code == 400
    assert status() == "awaiting_verification"


def test_a_link_expires_after_thirty_days(
    links: dict[str, str], clock: time_machine.Traveller,
) -> None:
    clock.move_to(START + timedelta(days=30, minutes=1))
    assert Client().get(links["confirm"]).status_code == 400
    assert Client().post(links["confirm"]).status_code == 400
    assert status() == "awaiting_verification"


def test_answering_on_the_portal_retires_the_mailed_links(
    links: dict[str, str], cast: dict[str, User], browser_as: Any,
) -> None:
    ticket = Ticket.objects.get()
    page = browser_as(cast["submitter"]).post(f"/tickets/{ticket.key}/actions/reject_fix",
                                              {"version": ticket.version, "reason": "没好"})
    assert page.status_code == 302
    assert Client().post(links["confirm"]).status_code == 400
    assert status() == "planning"


def test_no_usable_link_is_stored_or_shown_in_the_admin(
    links: dict[str, str], cast: dict[str, User], make_user: Any,
) -> None:
    token = links["confirm"].split("/")[2]
    delivery = Delivery.objects.get(notification_kind=K.VERIFY)
    assert token not in delivery.body and "⟦confirm⟧" in delivery.body
    admin = make_user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    shown = client.get(f"/admin/notify/delivery/{delivery.pk}/change/")
    assert shown.status_code == 200 and token not in shown.content.decode()
    assert token in mail.outbox[-1].body  # only the mail itself carries it


def test_a_link_is_never_written_to_the_log(
    links: dict[str, str], caplog: pytest.LogCaptureFixture,
) -> None:
    token = links["confirm"].split("/")[2]
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().post(links["not_fixed"], {"reason": ""})  # 422: Django logs the path
        Client().get(links["confirm"] + "x/")  # 404
    assert caplog.records
    for formatter in (ScrubbingFormatter(), JsonFormatter()):
        for record in caplog.records:
            line = formatter.format(record)
            assert token not in line and links["not_fixed"].split("/")[2] not in line
            assert "/verify/****" in line
