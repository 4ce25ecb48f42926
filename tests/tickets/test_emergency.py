"""Emergencies walked through the API: declared on a ticket or from scratch by those with the
right, urgent at once, the responders told immediately, and status updates on the timeline
and sent to every stakeholder."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission

from opsdesk.emergencies.models import Emergency, EmergencySettings
from opsdesk.notify.models import Delivery
from opsdesk.notify.services import create_team
from tests.conftest import Api
from tests.factories import TicketFactory
from tests.tickets.test_procedure_api import latest

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 3, 10, tzinfo=SH)
REASON = "支付回调全部超时，所有用户无法完成支付"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ticket(people, payment):
    return TicketFactory(by=people["submitter"], impact="few_users", urgency="normal",
                         module="payment", title="支付回调偶尔超时")


def told(kind):
    """Who got a notification of ``kind``: usernames (users) and names (teams)."""
    rows = Delivery.objects.filter(notification_kind=kind).select_related("recipient", "team")
    return sorted({row.recipient.username if row.recipient else row.team.name for row in rows})


def usernames(people, *roles):
    return sorted(people[role].username for role in roles)


def test_the_duty_engineer_declares_an_emergency_on_a_ticket(api, people, ticket):
    response = api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["key"] == ticket.key and body["priority"] == "urgent"
    assert body["reason"] == REASON and body["from_scratch"] is False
    assert body["declared_by"]["username"] == people["duty"].username
    assert api["submitter"].read(ticket.key)["priority"] == "urgent"
    event = latest(api["submitter"].timeline(ticket.key), "emergency")
    assert event["actor"]["username"] == people["duty"].username
    assert event["data"]["reason"] == REASON
    assert event["data"]["changed"]["priority"] == {"from": "medium", "to": "urgent"}
    assert event["data"]["source_kind"] == "user_report"
    # The SLA clocks follow the new priority.
    timeline = api["duty"].timeline(ticket.key)
    assert latest(timeline, "sla", event="recomputed")["data"]["priority"] == "urgent"
    # The module owner and the head at once; the duty engineer declared it himself.
    assert told("emergency") == usernames(people, "owner", "head")
    mail = Delivery.objects.get(notification_kind="emergency", recipient=people["owner"])
    assert REASON in mail.body and ticket.key in mail.subject
    assert api["duty"].get(f"/tickets/{ticket.key}/emergency").json()["reason"] == REASON
    assert [e["key"] for e in api["head"].get("/emergencies").json()] == [ticket.key]


def test_a_module_owner_declares_and_the_duty_engineer_on_shift_is_told(api, people, ticket):
    response = api["owner"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})

    assert response.status_code == 201, response.json()
    assert told("emergency") == usernames(people, "duty", "head")


def test_an_emergency_from_scratch_is_a_new_urgent_ticket(api, people, payment):
    response = api["head"].post("/emergencies", {
        "title": "支付全部失败", "reason": REASON, "module": "payment"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["priority"] == "urgent" and body["from_scratch"] is True
    ticket = api["head"].read(body["key"])
    assert ticket["source_kind"] == "emergency"
    assert ticket["submitter"]["username"] == people["head"].username
    assert ticket["description"] == REASON
    assert latest(api["head"].timeline(body["key"]), "emergency")["data"]["reason"] == REASON
    assert told("emergency") == usernames(people, "duty", "owner")


@pytest.mark.parametrize("role", ["submitter", "support", "developer", "ops"])
def test_people_without_the_right_cannot_declare(api, ticket, role):
    on_ticket = api[role].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})
    from_scratch = api[role].post("/emergencies", {"title": "支付全部失败", "reason": REASON})

    assert on_ticket.status_code in (403, 404)  # 404: developers do not see the ticket
    assert from_scratch.status_code == 403 and from_scratch.json()["code"] == "forbidden"
    assert not Emergency.objects.exists()
    ticket.refresh_from_db()
    assert ticket.priority_code == "medium"
    assert not Delivery.objects.filter(notification_kind="emergency").exists()


def test_the_right_is_data_roles_and_a_permission(api, people, ticket):
    config = EmergencySettings.objects.get()
    assert sorted(config.declaring_roles) == ["admin", "duty", "head", "owner"]
    config.declaring_roles = ["head"]
    config.save()
    refused = api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})
    assert refused.status_code == 403

    people["support"].user_permissions.add(Permission.objects.get(codename="declare_emergency"))
    allowed = Api(people["support"]).post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})
    assert allowed.status_code == 201, allowed.json()


def test_declaring_needs_a_reason_an_open_ticket_and_happens_once(api, people, ticket):
    assert api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": " "}).json()[
        "details"]["field"] == "reason"
    assert api["duty"].post("/emergencies", {"title": "x", "reason": ""}).status_code == 422
    assert api["duty"].post("/emergencies", {"reason": REASON}).status_code == 422
    assert api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON}).status_code == (
        201)

    again = api["owner"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})

    assert again.status_code == 409 and again.json()["code"] == "already_declared"
    dismissed = TicketFactory(by=people["submitter"])
    api["duty"].act(dismissed.key, "dismiss", reason="重复提交")
    closed = api["duty"].post(f"/tickets/{dismissed.key}/emergency", {"reason": REASON})
    assert closed.status_code == 409 and closed.json()["code"] == "read_only"


def test_status_updates_reach_every_stakeholder_and_the_timeline(api, people, ticket, make_user):
    watcher, member = make_user(display_name="客服主管"), make_user(display_name="客服值班")
    config = EmergencySettings.objects.get()
    config.watchers.add(watcher)
    config.watchers_team = create_team(name="客服中心", members=[member])
    config.save()
    api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})

    response = api["owner"].post(f"/tickets/{ticket.key}/status-updates", {
        "message": "已切换到备用支付通道，成功率恢复到 95%",
        "next_update_at": "2026-11-25T04:00:00+08:00"})

    assert response.status_code == 201, response.json()
    assert response.json()["message"] == "已切换到备用支付通道，成功率恢复到 95%"
    event = latest(api["submitter"].timeline(ticket.key), "status_update")
    assert event["actor"]["username"] == people["owner"].username
    assert event["data"]["message"] == "已切换到备用支付通道，成功率恢复到 95%"
    assert datetime.fromisoformat(event["data"]["next_update_at"]) == datetime(
        2026, 11, 25, 4, 0, tzinfo=SH)
    assert told("status_update") == sorted(
        [*usernames(people, "duty", "head", "submitter"), watcher.username, member.username])
    mail = Delivery.objects.get(notification_kind="status_update", recipient=people["submitter"])
    assert "已切换到备用支付通道" in mail.body
    assert "2026-11-25 04:00 Asia/Shanghai" in mail.body
    # Every update goes out, each once.
    api["owner"].post(f"/tickets/{ticket.key}/status-updates", {"message": "支付已全部恢复"})
    assert Delivery.objects.filter(notification_kind="status_update",
                                   recipient=people["submitter"]).count() == 2
    emergency = api["duty"].get(f"/tickets/{ticket.key}/emergency").json()
    assert emergency["next_update_at"] is None and emergency["last_update_at"] is not None


def test_status_update_refusals(api, people, ticket):
    not_yet = api["owner"].post(f"/tickets/{ticket.key}/status-updates", {"message": "处理中"})
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "not_an_emergency"
    api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})

    by_submitter = api["submitter"].post(f"/tickets/{ticket.key}/status-updates",
                                         {"message": "我这边还是不行"})
    empty = api["owner"].post(f"/tickets/{ticket.key}/status-updates", {"message": "  "})
    past = api["owner"].post(f"/tickets/{ticket.key}/status-updates", {
        "message": "处理中", "next_update_at": "2026-11-25T03:00:00+08:00"})

    assert by_submitter.status_code == 403
    assert empty.status_code == 422 and empty.json()["details"]["field"] == "message"
    assert past.status_code == 422 and past.json()["details"]["field"] == "next_update_at"
    assert not Delivery.objects.filter(notification_kind="status_update").exists()


def test_notifications_speak_the_readers_language(api, people, ticket):
    people["head"].language = "zh-hans"
    people["head"].save()
    people["owner"].language = "en"
    people["owner"].save()

    api["duty"].post(f"/tickets/{ticket.key}/emergency", {"reason": REASON})

    chinese = Delivery.objects.get(notification_kind="emergency", recipient=people["head"])
    english = Delivery.objects.get(notification_kind="emergency", recipient=people["owner"])
    assert "紧急" in chinese.subject and "EMERGENCY" in english.subject
    assert "宣布人" in chinese.body and "Declared by" in english.body
