"""Alertmanager notifications posted to /api/v1/intake/alertmanager become tickets: one per
fault, registered from the labels, updated by repeats, closed by a resolution nobody waited for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from opsdesk.accounts.models import Module, User
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, Priority, SourceKind, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.conftest import Api
from tests.intake.conftest import Sender
from tests.intake.payloads import CPU, DISK, LATENCY, Fault, notification

NOW = datetime(2026, 11, 25, 8, 1, tzinfo=UTC)


def alert_events(ticket: Ticket) -> list[dict[str, object]]:
    return [e.data for e in TimelineEvent.objects.filter(ticket=ticket, kind="alert")]


def ticket_of(fault: Fault) -> Ticket:
    return Alert.objects.select_related("ticket").get(identity=fault.fingerprint).ticket


@time_machine.travel(NOW, tick=False)
def test_each_fingerprint_opens_one_ticket_with_the_registration_fields(
    sender: Sender, payment: Module
) -> None:
    answer = sender.send(notification(CPU.alert(), DISK.alert(), LATENCY.alert()))

    assert len(answer["created"]) == 3 and answer["repeated"] == []
    assert Ticket.objects.count() == 3
    cpu, disk, latency = ticket_of(CPU), ticket_of(DISK), ticket_of(LATENCY)
    assert cpu.alert_host == "10.0.3.21"  # the port is not part of the host
    assert disk.alert_host == "db-01.prod.example"
    assert latency.alert_host == "fd00:10::21"
    assert (cpu.alert_rule, cpu.alert_level) == ("NodeHighCPU", "critical")
    assert cpu.alert_at == cpu.occurred_at == datetime(2026, 11, 25, 8, 0, 12, 345678, tzinfo=UTC)
    assert cpu.alert_symptom == "CPU 使用率超过 95%"
    assert cpu.description == CPU.description
    assert disk.alert_symptom == "Disk /data will fill within 4 hours"
    assert "NodeHighCPU" in cpu.title and "10.0.3.21" in cpu.title
    assert [t.priority for t in (cpu, disk, latency)] == [
        Priority.URGENT, Priority.MEDIUM, Priority.LOW]
    for ticket in (cpu, disk, latency):
        assert ticket.source_kind == SourceKind.ALERT
        assert ticket.channel == Channel.ALERTMANAGER
        assert ticket.submitter_name == "prometheus-prod"
        assert ticket.key in answer["created"]
    assert latency.module == payment  # the "service" label names the module
    alert = Alert.objects.get(identity=CPU.fingerprint)
    assert (alert.occurrences, alert.firing, alert.first_seen, alert.last_seen) == (
        1, True, NOW, NOW)
    assert alert.labels["job"] == "node"
    assert alert_events(cpu) == [{"status": "firing", "occurrences": 1,
                                  "identity": CPU.fingerprint, "labels": CPU.labels}]
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.PROCESSED and message.pk == answer["message"]


def test_an_integration_may_map_severities_to_other_priorities(
    make_sender: Callable[..., Sender]
) -> None:
    sender = make_sender(severity_priority={"Warning": "high"})
    sender.send(notification(DISK.alert()))
    assert ticket_of(DISK).priority == Priority.HIGH


def test_a_repeat_updates_the_same_ticket_and_never_opens_another(
    sender: Sender, api: dict[str, Api]
) -> None:
    with time_machine.travel(NOW, tick=False):
        first = sender.send(notification(CPU.alert()))
    for minutes in (5, 10):
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            again = sender.send(notification(CPU.alert()))
            assert again["created"] == [] and again["repeated"] == first["created"]

    assert Ticket.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.occurrences == 3
    assert alert.first_seen == NOW and alert.last_seen == NOW + timedelta(minutes=10)
    timeline = api["duty"].timeline(first["created"][0])
    occurrences = [e for e in timeline if e["kind"] == "alert"]
    assert [e["data"]["occurrences"] for e in occurrences] == [1, 2, 3]
    assert all(e["data"]["status"] == "firing" for e in occurrences)


def test_the_same_fault_twice_in_one_notification_is_one_ticket(sender: Sender) -> None:
    answer = sender.send(notification(CPU.alert(), CPU.alert()))
    assert len(answer["created"]) == 1 and answer["repeated"] == answer["created"]
    assert Alert.objects.get().occurrences == 2


def test_by_group_key_one_notification_is_one_occurrence_of_its_group(
    make_sender: Callable[..., Sender]
) -> None:
    sender = make_sender(dedupe_by="group_key")
    node_a = Fault(instance="10.0.3.21:9100")
    node_b = Fault(instance="10.0.3.22:9100")
    group = ("alertname",)

    first = sender.send(notification(node_a.alert(), group_by=group))
    grown = sender.send(notification(node_a.alert(), node_b.alert(), group_by=group))
    other = sender.send(notification(DISK.alert(), group_by=group))

    assert Ticket.objects.count() == 2
    assert grown["created"] == [] and grown["repeated"] == first["created"]
    assert other["created"] != first["created"]
    alert = Alert.objects.get(identity='{}:{alertname="NodeHighCPU"}')
    assert alert.occurrences == 2
    # One alert of the group resolved, the other still fires: the group is not resolved.
    partly = sender.send(notification(node_a.alert(resolved=True), node_b.alert(),
                                      group_by=group))
    assert partly["resolved"] == [] and partly["repeated"] == first["created"]
    assert Ticket.objects.get(pk=alert.ticket_id).status != Status.CLOSED
    done = sender.send(notification(node_a.alert(resolved=True), node_b.alert(resolved=True),
                                    group_by=group))
    assert done["closed"] == first["created"]
    assert Ticket.objects.get(pk=alert.ticket_id).status == Status.CLOSED


def test_by_group_key_a_notification_without_a_group_key_is_rejected(
    make_sender: Callable[..., Sender]
) -> None:
    sender = make_sender(dedupe_by="group_key")
    payload = notification(CPU.alert())
    del payload["groupKey"]
    response = sender.post(payload)
    assert response.status_code == 422
    assert "groupKey" in response.json()["message"]


@pytest.mark.parametrize("dispatching", ["inline", "worker"])
def test_a_resolution_closes_a_ticket_nobody_acknowledged(
    sender: Sender, settings: Any, dispatching: str,
) -> None:
    # The worker's mode: the resolution arrives before the worker got to the ticket.
    settings.OPSDESK_DISPATCH = dispatching
    with time_machine.travel(NOW, tick=False):
        sender.send(notification(CPU.alert()))
    ends = NOW + timedelta(minutes=20)
    with time_machine.travel(NOW + timedelta(minutes=21), tick=False):
        answer = sender.send(notification(CPU.alert(resolved=True, ends_at=ends)))

    ticket = ticket_of(CPU)
    assert answer["resolved"] == answer["closed"] == [ticket.key]
    assert ticket.status == Status.CLOSED
    alert = Alert.objects.get()
    assert alert.firing is False and alert.resolved_at == ends
    resolved = alert_events(ticket)[-1]
    assert resolved["status"] == "resolved" and resolved["ends_at"] == ends.isoformat()
    closing = TimelineEvent.objects.filter(ticket=ticket, kind="transition").last()
    assert closing is not None and closing.actor is None
    assert closing.data["action"] == "dismiss" and closing.data["to"] == Status.CLOSED
    assert closing.data["reason"]
    assert ticket.dispatched  # routed and clocked before it was closed
    kinds = list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds.index("sla") < kinds.index("transition")


def test_a_resolution_also_closes_a_ticket_assigned_but_not_yet_acknowledged(
    sender: Sender, people: dict[str, User]
) -> None:
    key = sender.send(notification(CPU.alert()))["created"][0]
    ticket = ticket_of(CPU)
    tickets.do_transition(ticket_id=ticket.pk, action="triage", by=people["duty"],
                          version=ticket.version, fields={"assignee": people["owner"].username})
    answer = sender.send(notification(CPU.alert(resolved=True)))
    assert answer["closed"] == [key]
    assert ticket_of(CPU).status == Status.CLOSED


def test_a_resolution_leaves_an_acknowledged_ticket_open(
    sender: Sender, people: dict[str, User], api: dict[str, Api]
) -> None:
    key = sender.send(notification(CPU.alert()))["created"][0]
    api["duty"].act(key, "triage", assignee=people["owner"].username)
    assert api["owner"].act(key, "acknowledge").status_code == 200

    answer = sender.send(notification(CPU.alert(resolved=True)))

    assert answer["resolved"] == [key] and answer["closed"] == []
    ticket = ticket_of(CPU)
    assert ticket.status == Status.ANALYSING
    assert alert_events(ticket)[-1]["status"] == "resolved"
    # It fires again while the engineer works on it: the same ticket counts it.
    again = sender.send(notification(CPU.alert()))
    assert again["repeated"] == [key]
    assert Alert.objects.get().firing is True


def test_no_automatic_close_when_the_integration_says_so(
    make_sender: Callable[..., Sender]
) -> None:
    sender = make_sender(auto_close_resolved=False)
    key = sender.send(notification(CPU.alert()))["created"][0]
    answer = sender.send(notification(CPU.alert(resolved=True)))
    assert answer["resolved"] == [key] and answer["closed"] == []
    ticket = ticket_of(CPU)
    assert ticket.status not in (Status.CLOSED, Status.ARCHIVED)
    assert alert_events(ticket)[-1]["status"] == "resolved"


def test_a_fault_firing_again_after_its_ticket_closed_opens_a_new_ticket(sender: Sender) -> None:
    with time_machine.travel(NOW, tick=False):
        first = sender.send(notification(CPU.alert()))["created"]
        sender.send(notification(CPU.alert(resolved=True)))
    back = NOW + timedelta(hours=2)
    with time_machine.travel(back, tick=False):
        again = sender.send(notification(CPU.alert()))["created"]

    assert len(again) == 1 and again != first
    assert Ticket.objects.count() == 2
    assert Ticket.objects.get(pk=int(first[0].split("-")[1])).status == Status.CLOSED
    alert = Alert.objects.get()
    assert alert.ticket.key == again[0] and alert.occurrences == 1 and alert.firing
    assert alert.resolved_at is None and alert.first_seen == alert.last_seen == back

    with time_machine.travel(back + timedelta(minutes=5), tick=False):
        repeat = sender.send(notification(CPU.alert()))
    assert repeat["created"] == [] and repeat["repeated"] == again
    assert Alert.objects.get().occurrences == 2


def test_the_closed_ticket_keeps_its_record_and_the_new_one_is_linked_as_a_recurrence(
    sender: Sender, api: dict[str, Api], people: dict[str, User], browser_as: Callable[..., Any]
) -> None:
    with time_machine.travel(NOW, tick=False):
        [first] = sender.send(notification(CPU.alert()))["created"]
        sender.send(notification(CPU.alert()))
        sender.send(notification(CPU.alert(resolved=True)))
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        [again] = sender.send(notification(CPU.alert()))["created"]

    old = Ticket.objects.get(pk=int(first.split("-")[1]))
    record = alert_events(old)[-1]
    assert record["status"] == "recurred" and record["recurrence"] == again
    assert record["occurrences"] == 2 and record["identity"] == CPU.fingerprint
    assert datetime.fromisoformat(record["first_seen"]) == NOW
    assert record["resolved_at"] is not None and record["labels"]["job"] == "node"
    links = api["duty"].get(f"/tickets/{again}/links").json()
    assert [(x["kind"], x["direction"], x["ticket"]["key"], x["created_by"]) for x in links] == [
        ("recurrence_of", "outgoing", first, None)]
    assert [x["label"] for x in api["duty"].get(f"/tickets/{first}/links").json()] == [
        "recurred as"]
    page = browser_as(people["duty"], "en").get(f"/tickets/{first}/").content.decode()
    assert f"The fault fired again: {again}" in page
    # Its Alerts card still shows the fault as it was under it, and where it went.
    card = page[page.index('aria-labelledby="alerts"'):]
    card = card[:card.index("</section>")]
    assert "data-recorded-alert" in card and CPU.fingerprint in card
    assert f'now tracked by <a href="/tickets/{again}/">{again}</a>' in card
    assert "job=node" in card and "<dd>2</dd>" in card  # its labels and occurrences
    new_page = browser_as(people["duty"], "en").get(f"/tickets/{again}/").content.decode()
    assert "data-recorded-alert" not in new_page and CPU.fingerprint in new_page


def test_a_ticket_closed_while_its_alert_fires_says_what_the_next_repeat_does(
    sender: Sender, api: dict[str, Api], people: dict[str, User], browser_as: Callable[..., Any]
) -> None:
    [key] = sender.send(notification(CPU.alert()))["created"]

    closed = api["duty"].act(key, "dismiss", reason="已知问题，无需处理")

    assert closed.status_code == 200, closed.json()
    ticket = Ticket.objects.get(pk=int(key.split("-")[1]))
    note = alert_events(ticket)[-1]
    assert note == {"status": "closed_while_firing", "identities": [CPU.fingerprint]}
    page = browser_as(people["duty"], "en").get(f"/tickets/{key}/").content.decode()
    assert "opens a new ticket, linked to this one as a recurrence" in page


def test_a_resolution_of_an_unknown_fault_is_ignored(sender: Sender) -> None:
    answer = sender.send(notification(DISK.alert(resolved=True)))
    assert answer["ignored"] == 1 and Ticket.objects.count() == 0
    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer whk_not-the-secret-at-all"},
    {},
    {"Authorization": "Basic cHJvbWV0aGV1czpzZWNyZXQ="},
], ids=["wrong", "missing", "basic"])
def test_a_wrong_or_missing_secret_is_refused_stores_nothing_and_is_not_logged(
    sender: Sender, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        response = sender.post(notification(CPU.alert()), headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "bad_secret"
    assert InboundMessage.objects.count() == 0 and Ticket.objects.count() == 0
    refusals = [r for r in caplog.records if r.name == "opsdesk.intake.integrations"]
    assert len(refusals) == 1 and "127.0.0.1" in refusals[0].getMessage()
    for record in caplog.records:
        text = record.getMessage()
        assert "not-the-secret" not in text and "cHJvbWV0aGV1cz" not in text
        assert sender.secret not in text


def test_the_secret_of_another_kind_of_integration_is_refused(
    sender: Sender, caplog: pytest.LogCaptureFixture
) -> None:
    from opsdesk.intake.integrations import create_integration

    _zabbix, secret = create_integration(name="zabbix", kind="zabbix")
    response = sender.post(notification(CPU.alert()), secret=secret)
    assert response.status_code == 401 and InboundMessage.objects.count() == 0
    assert secret not in caplog.text


def test_a_disabled_integration_is_refused(
    sender: Sender, caplog: pytest.LogCaptureFixture
) -> None:
    sender.integration.enabled = False
    sender.integration.save()
    with caplog.at_level("WARNING"):
        response = sender.post(notification(CPU.alert()))
    assert response.status_code == 403
    assert response.json()["code"] == "integration_disabled"
    assert "prometheus-prod" in response.json()["message"]
    assert InboundMessage.objects.count() == 0 and Ticket.objects.count() == 0
    assert sender.secret not in caplog.text


def _without(key: str) -> bytes:
    payload = notification(CPU.alert())
    del payload[key]
    return _json(payload)


def _json(payload: object) -> bytes:
    import json

    return json.dumps(payload, ensure_ascii=False).encode()


def _alert_with(**changes: object) -> bytes:
    payload = notification(CPU.alert())
    alert = {**payload["alerts"][0], **changes}
    payload["alerts"] = [{k: v for k, v in alert.items() if v is not None}]
    return _json(payload)


@pytest.mark.parametrize(("raw", "named"), [
    (b'{"version": "4", "alerts": [', "not valid JSON"),
    ("告警".encode("gbk"), "not valid JSON"),
    (b'[{"labels": {}}]', "not a JSON object"),
    (_json({**notification(CPU.alert()), "version": "3"}), "version '3'"),
    (_without("version"), "version None"),
    (_without("alerts"), '"alerts"'),
    (_json({**notification(CPU.alert()), "alerts": {"0": CPU.alert()}}), '"alerts"'),
    (_alert_with(labels=None), "Alert 0 has no labels"),
    (_alert_with(fingerprint=None), "Alert 0 has no fingerprint"),
    (_alert_with(status="pending"), "Alert 0 has status 'pending'"),
], ids=["truncated", "gbk-bytes", "array", "version-3", "no-version", "no-alerts",
        "alerts-not-a-list", "no-labels", "no-fingerprint", "bad-status"])
def test_a_payload_that_cannot_be_used_is_answered_422_and_kept(
    sender: Sender, raw: bytes, named: str
) -> None:
    response = sender.post(None, raw=raw)

    assert response.status_code == 422, response.content.decode()
    answer = response.json()
    assert answer["code"] == "payload_rejected"
    assert named in answer["message"]
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.REJECTED
    assert bytes(message.body) == raw and message.error == answer["message"]
    assert message.integration == sender.integration and message.attempts == 1
    assert Ticket.objects.count() == 0


def test_a_big_notification_is_accepted(sender: Sender) -> None:
    """Above Django's 2.5 MB form limit: a storm's group is one notification."""
    faults = [Fault(instance=f"10.0.3.{i}:9100", description="磁盘写满" * 800) for i in range(3)]
    payload = _json(notification(*(f.alert() for f in faults * 100)))
    assert len(payload) > 2_700_000
    response = sender.post(None, raw=payload)
    assert response.status_code == 200, response.content[:300]
    assert Ticket.objects.count() == 3
    assert sorted(Alert.objects.values_list("occurrences", flat=True)) == [100, 100, 100]


def test_a_storm_group_of_hundreds_of_known_faults_counts_every_repeat(sender: Sender) -> None:
    """More repeats in one notification than one statement may carry ids: all are counted."""
    faults = [Fault(instance=f"10.0.{i // 250}.{i % 250}:9100") for i in range(700)]
    opened = sender.send(notification(*(f.alert() for f in faults)))
    assert len(opened["created"]) == 700
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        again = sender.send(notification(*(f.alert() for f in faults)))
    assert again["created"] == [] and sorted(again["repeated"]) == sorted(opened["created"])
    assert set(Alert.objects.values_list("occurrences", "last_seen")) == {
        (2, NOW + timedelta(minutes=5))}


def test_a_notification_over_the_size_limit_is_refused_naming_the_limit(
    sender: Sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsdesk.intake import api

    monkeypatch.setattr(api, "MAX_PAYLOAD_BYTES", 1024 * 1024)
    payload = _json(notification(*(CPU.alert() for _ in range(3000))))
    assert len(payload) > 1024 * 1024
    response = sender.post(None, raw=payload)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "1 MB" in response.json()["message"]
    assert InboundMessage.objects.count() == 0
