"""Zabbix events posted to /api/v1/intake/zabbix: one ticket per problem event, updates on its
timeline, recovery closing the loop, severities mapped to priorities (configurable)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from opsdesk.accounts.models import Module, User
from opsdesk.intake import integrations, payloads
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus, IntegrationKind
from opsdesk.tickets.choices import Channel, Priority, SourceKind, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.conftest import Api
from tests.intake.conftest import Sender
from tests.intake.zabbix_events import RECOVERED, STARTED, problem, recovery, update

URL = "/api/v1/intake/zabbix"
NOW = datetime(2026, 11, 25, 8, 1, tzinfo=UTC)


@pytest.fixture
def make_zabbix(db: None) -> Callable[..., Sender]:
    def make(name: str = "zabbix-prod", **options: Any) -> Sender:
        integration, secret = integrations.create_integration(
            name=name, kind=IntegrationKind.ZABBIX, options=options
        )
        return Sender(integration, secret, url=URL)

    return make


@pytest.fixture
def zabbix(make_zabbix: Callable[..., Sender]) -> Sender:
    return make_zabbix()


def ticket_of(event_id: str) -> Ticket:
    return Alert.objects.select_related("ticket").get(identity=event_id).ticket


def alert_events(ticket: Ticket) -> list[dict[str, Any]]:
    return [e.data for e in TimelineEvent.objects.filter(ticket=ticket, kind="alert")]


@time_machine.travel(NOW, tick=False)
def test_a_problem_opens_one_ticket_with_the_registration_fields(
    zabbix: Sender, payment: Module
) -> None:
    answer = zabbix.send(problem())

    ticket = ticket_of("40213")
    assert answer["event"] == "problem" and answer["created"] == [ticket.key]
    assert answer["ticket"] == ticket.key
    assert ticket.title == "[High] MySQL: 主从复制延迟超过 300 秒 @ db-02"
    assert ticket.priority == Priority.HIGH
    assert (ticket.alert_host, ticket.alert_rule, ticket.alert_level) == (
        "10.0.5.12", "MySQL: Replication lag is too high", "High")
    assert ticket.alert_at == ticket.occurred_at == STARTED
    assert ticket.alert_symptom == "MySQL: 主从复制延迟超过 300 秒: Replication lag: 412s"
    assert ticket.description.startswith("从库 db-02")
    assert ticket.source_kind == SourceKind.ALERT and ticket.channel == Channel.ZABBIX
    assert ticket.submitter_name == "zabbix-prod"
    assert ticket.module == payment  # the "service" tag names the module
    assert Alert.objects.get().labels["tag:scope"] == "capacity"
    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED


@pytest.mark.parametrize(("severity", "nseverity", "priority"), [
    ("Disaster", "5", Priority.URGENT), ("High", "4", Priority.HIGH),
    ("Average", "3", Priority.MEDIUM), ("Warning", "2", Priority.LOW),
    ("Information", "1", Priority.LOW), ("Not classified", "0", Priority.LOW),
    ("灾难", "5", Priority.URGENT),  # severities renamed in Zabbix: the number decides
])
def test_severities_map_to_priorities(
    zabbix: Sender, severity: str, nseverity: str, priority: Priority
) -> None:
    zabbix.send(problem(severity=severity, nseverity=nseverity))
    assert ticket_of("40213").priority == priority


def test_an_integration_may_map_severities_to_other_priorities(
    make_zabbix: Callable[..., Sender]
) -> None:
    zabbix = make_zabbix(severity_priority={"Warning": "medium", "灾难": "high"})
    zabbix.send(problem("1", severity="Warning", nseverity="2"))
    zabbix.send(problem("2", severity="灾难", nseverity="5"))
    assert ticket_of("1").priority == Priority.MEDIUM
    assert ticket_of("2").priority == Priority.HIGH


def test_zabbix_6_local_times_are_read_in_the_integrations_time_zone(
    make_zabbix: Callable[..., Sender]
) -> None:
    local = {"started_at": "", "started_local": "2026.11.25 16:00:12"}
    make_zabbix().send(problem("1", **local))
    make_zabbix("zabbix-eu", time_zone="Europe/Berlin").send(problem("2", **local))
    assert ticket_of("1").alert_at == datetime(2026, 11, 25, 8, 0, 12, tzinfo=UTC)
    assert ticket_of("2").alert_at == datetime(2026, 11, 25, 15, 0, 12, tzinfo=UTC)


def test_an_unknown_time_zone_is_refused_when_the_integration_is_saved(
    zabbix: Sender
) -> None:
    zabbix.integration.options = {"time_zone": "Asia/Beijing"}
    with pytest.raises(ValidationError, match="Asia/Beijing"):
        zabbix.integration.full_clean()


def test_a_resent_problem_counts_an_occurrence_on_the_same_ticket(zabbix: Sender) -> None:
    first = zabbix.send(problem())
    again = zabbix.send(problem())  # an escalation step sends the problem message again
    other = zabbix.send(problem("40250"))

    assert again["created"] == [] and again["repeated"] == first["created"]
    assert again["ticket"] == first["ticket"] != other["ticket"]
    assert Ticket.objects.count() == 2
    assert Alert.objects.get(identity="40213").occurrences == 2


def test_updates_are_noted_on_the_timeline(zabbix: Sender, api: dict[str, Api]) -> None:
    key = zabbix.send(problem())["ticket"]
    answer = zabbix.send(update(message="DBA 正在处理"))
    zabbix.send(update(action="changed severity", severity="Disaster", nseverity="5"))

    assert answer == {"message": answer["message"], "event": "update", "ticket": key,
                      "ignored": 0}
    timeline = [e for e in api["duty"].timeline(key) if e["kind"] == "alert"]
    noted = [e["data"] for e in timeline if e["data"]["status"] == "updated"]
    assert [(n["action"], n["message"], n["user"]) for n in noted] == [
        ("acknowledged", "DBA 正在处理", "Li Lei (李雷)"),
        ("changed severity", "", "Li Lei (李雷)"),
    ]
    assert noted[1]["severity"] == "Disaster"
    assert Ticket.objects.get().status == Status.NEW  # Zabbix does not take opsdesk's steps


def test_an_update_for_an_unknown_problem_is_ignored(zabbix: Sender) -> None:
    assert zabbix.send(update("999"))["ignored"] == 1
    assert Ticket.objects.count() == 0


def test_recovery_closes_a_ticket_nobody_acknowledged(zabbix: Sender) -> None:
    key = zabbix.send(problem())["ticket"]
    answer = zabbix.send(recovery())

    assert answer["event"] == "recovery" and answer["closed"] == [key]
    ticket = ticket_of("40213")
    assert ticket.status == Status.CLOSED
    resolved = alert_events(ticket)[-1]
    assert resolved["status"] == "resolved" and resolved["ends_at"] == RECOVERED.isoformat()
    assert Alert.objects.get().resolved_at == RECOVERED


def test_recovery_only_notes_an_acknowledged_ticket(
    zabbix: Sender, people: dict[str, User], api: dict[str, Api]
) -> None:
    key = zabbix.send(problem())["ticket"]
    api["duty"].act(key, "triage", assignee=people["owner"].username)
    assert api["owner"].act(key, "acknowledge").status_code == 200

    answer = zabbix.send(recovery())

    assert answer["resolved"] == [key] and answer["closed"] == []
    assert ticket_of("40213").status == Status.ANALYSING
    assert alert_events(ticket_of("40213"))[-1]["status"] == "resolved"


def test_recovery_only_notes_when_the_integration_says_so(
    make_zabbix: Callable[..., Sender]
) -> None:
    zabbix = make_zabbix(auto_close_resolved=False)
    key = zabbix.send(problem())["ticket"]
    answer = zabbix.send(recovery())
    assert answer["resolved"] == [key] and answer["closed"] == []
    assert ticket_of("40213").status == Status.NEW


def test_the_secret_of_another_integration_is_refused_and_not_logged(
    zabbix: Sender, caplog: pytest.LogCaptureFixture
) -> None:
    _other, alertmanager_secret = integrations.create_integration(
        name="prometheus", kind=IntegrationKind.ALERTMANAGER)
    with caplog.at_level("WARNING"):
        wrong = zabbix.post(problem(), secret=alertmanager_secret)
        missing = zabbix.post(problem(), headers={})
    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["code"] == "bad_secret"
    assert InboundMessage.objects.count() == 0 and Ticket.objects.count() == 0
    assert "zabbix" in caplog.text and "127.0.0.1" in caplog.text
    assert alertmanager_secret not in caplog.text and zabbix.secret not in caplog.text


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


@pytest.mark.parametrize(("raw", "named"), [
    (b'{"event": "problem", ', "not valid JSON"),
    (b'["problem"]', "not a JSON object"),
    (_json({**problem(), "event": "trigger"}), "Unknown event 'trigger'"),
    (_json({**problem(), "event_id": ""}), '"event_id"'),
    (_json({**problem(), "name": ""}), '"name"'),
    (_json({**problem(), "severity": "Critical", "nseverity": ""}), "severity 'Critical'"),
    (_json({**problem(), "severity": "Critical", "nseverity": "²"}), "severity 'Critical'"),
    (_json({**problem(), "started_at": "2026.11.25 16:00"}), "started_at '2026.11.25 16:00'"),
    (_json({**problem(), "started_at": "", "started_local": "25/11/2026 16:00"}),
     "started_local '25/11/2026 16:00'"),
], ids=["truncated", "array", "unknown-event", "no-event-id", "no-name", "unknown-severity",
        "superscript-severity", "bad-timestamp", "bad-local-time"])
def test_a_payload_that_cannot_be_used_is_answered_422_and_kept(
    zabbix: Sender, raw: bytes, named: str
) -> None:
    response = zabbix.post(None, raw=raw)

    assert response.status_code == 422, response.content.decode()
    assert response.json()["code"] == "payload_rejected"
    assert named in response.json()["message"]
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.REJECTED and bytes(message.body) == raw
    assert Ticket.objects.count() == 0


def test_replay_after_mapping_the_unknown_severity_creates_the_ticket_once(
    zabbix: Sender
) -> None:
    response = zabbix.post({**problem(), "severity": "Critical", "nseverity": ""})
    assert response.status_code == 422
    message_id = InboundMessage.objects.get().pk
    zabbix.integration.options = {"severity_priority": {"Critical": "urgent"}}
    zabbix.integration.save()

    assert payloads.replay(message_id=message_id)["created"] == [ticket_of("40213").key]
    assert ticket_of("40213").priority == Priority.URGENT
    zabbix.send({**problem(), "severity": "Critical", "nseverity": ""})  # Zabbix retried
    assert Ticket.objects.count() == 1


def test_an_acknowledgement_in_zabbix_is_a_response_the_recovery_leaves_open(
    zabbix: Sender, api: dict[str, Api], people: dict[str, User]
) -> None:
    key = zabbix.send(problem())["ticket"]
    zabbix.send(update(action="acknowledged and commented", message="DBA 已介入，正在切换从库",
                       update_at=str(int(STARTED.timestamp()) + 300)))

    answer = zabbix.send(recovery())

    assert answer["resolved"] == [key] and answer["closed"] == []
    ticket = ticket_of("40213")
    assert ticket.status not in (Status.CLOSED, Status.ARCHIVED)
    alert = Alert.objects.get()
    assert alert.acknowledged_by == "Li Lei (李雷)"
    assert alert.acknowledged_at == STARTED + timedelta(minutes=5)
    timeline = [e["data"] for e in api["duty"].timeline(key) if e["kind"] == "alert"]
    assert [e["status"] for e in timeline] == ["firing", "updated", "resolved"]
    assert timeline[1]["acknowledged"] is True and timeline[1]["message"].startswith("DBA")
    assert timeline[2]["acknowledged"] is True
    # The engineer verifies and closes it; the page says who acknowledged it in Zabbix.
    client = Client()
    client.force_login(people["duty"])
    page = client.get(f"/tickets/{key}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Acknowledged at the source" in page and "DBA 已介入" in page


def test_withdrawing_the_acknowledgement_lets_the_recovery_close_it(zabbix: Sender) -> None:
    key = zabbix.send(problem())["ticket"]
    zabbix.send(update(action="acknowledged"))
    zabbix.send(update(action="unacknowledged and commented", message="误确认"))
    assert Alert.objects.get().acknowledged_at is None
    assert zabbix.send(recovery())["closed"] == [key]


def test_a_comment_alone_is_not_an_acknowledgement(zabbix: Sender) -> None:
    key = zabbix.send(problem())["ticket"]
    zabbix.send(update(action="commented", message="看一下"))
    assert zabbix.send(recovery())["closed"] == [key]


def test_a_recovery_of_a_problem_zabbix_says_was_acknowledged_leaves_it_open(
    zabbix: Sender
) -> None:
    """An action without an update operation: only the recovery's {EVENT.ACK.STATUS} says."""
    key = zabbix.send(problem())["ticket"]
    answer = zabbix.send(recovery(acknowledged="Yes"))
    assert answer["resolved"] == [key] and answer["closed"] == []
    assert Alert.objects.get().acknowledged_at is not None


@pytest.mark.parametrize(("started_at", "why"), [
    ("253402300799", "outside the years 2000 to 2099"),
    ("4102444800", "outside the years 2000 to 2099"),
    ("946684799", "outside the years 2000 to 2099"),
    (str(int(NOW.timestamp()) + 3 * 86400), "in the future"),
], ids=["year-9999", "year-2100", "year-1999", "three-days-ahead"])
@time_machine.travel(NOW, tick=False)
def test_an_unusable_event_time_is_replaced_by_the_arrival_time_and_noted(
    zabbix: Sender, started_at: str, why: str
) -> None:
    answer = zabbix.send(problem(started_at=started_at))
    assert answer["notes"] == [
        f"started_at '{started_at}' is {why}; the arrival time stands in."]
    ticket = ticket_of("40213")
    assert ticket.alert_at == NOW and ticket.occurred_at is None


def test_a_trigger_firing_again_after_its_ticket_closed_is_linked_as_a_recurrence(
    zabbix: Sender, api: dict[str, Api]
) -> None:
    with time_machine.travel(NOW, tick=False):
        first = zabbix.send(problem("40213"))["ticket"]
        zabbix.send(recovery("40213"))  # nobody acknowledged it: closed
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        again = zabbix.send(problem("40877"))["ticket"]  # the same trigger, a new event id
        other = zabbix.send(problem("40878", trigger_id="99001"))["ticket"]

    assert again != first
    links = api["duty"].get(f"/tickets/{again}/links").json()
    assert [(x["kind"], x["ticket"]["key"], x["created_by"]) for x in links] == [
        ("recurrence_of", first, None)]
    assert api["duty"].get(f"/tickets/{other}/links").json() == []


def test_a_trigger_firing_again_while_its_ticket_is_open_is_not_called_a_recurrence(
    zabbix: Sender, api: dict[str, Api]
) -> None:
    first = zabbix.send(problem("40213"))["ticket"]
    again = zabbix.send(problem("40877"))["ticket"]

    assert again != first
    assert api["duty"].get(f"/tickets/{again}/links").json() == []
