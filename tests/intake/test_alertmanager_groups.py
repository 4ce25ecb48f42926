"""An Alertmanager integration that tracks a group as one fault (``dedupe_by: group_key``):
every alert of the group kept on its ticket and shown, and the ticket as urgent as the most
severe alert firing in it, never lowered by opsdesk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils.dateparse import parse_datetime

from opsdesk.accounts.models import User
from opsdesk.intake.models import Alert, GroupedAlert
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.conftest import Api
from tests.intake.conftest import Sender
from tests.intake.payloads import Fault, notification

NOW = datetime(2026, 11, 25, 8, 1, tzinfo=UTC)
GROUP = ("alertname",)
# Three nodes of one rule: the group {alertname="NodeHighCPU"}.
NODE_A = Fault(instance="10.0.3.21:9100", severity="warning")
NODE_B = Fault(instance="10.0.3.22:9100", severity="warning",
               starts_at=datetime(2026, 11, 25, 7, 58, tzinfo=UTC))
NODE_C = Fault(instance="10.0.3.23:9100", severity="critical")


@pytest.fixture
def grouped(make_sender: Callable[..., Sender]) -> Sender:
    return make_sender(dedupe_by="group_key")


def the_ticket() -> Ticket:
    return Alert.objects.select_related("ticket").get().ticket


def test_every_alert_of_the_group_is_kept_with_its_labels_status_and_times(
    grouped: Sender
) -> None:
    with time_machine.travel(NOW, tick=False):
        grouped.send(notification(NODE_A.alert(), NODE_B.alert(), group_by=GROUP))
    ends = NOW + timedelta(minutes=4)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        grouped.send(notification(NODE_A.alert(resolved=True, ends_at=ends), NODE_B.alert(),
                                  NODE_C.alert(), group_by=GROUP))

    members = {m.fingerprint: m for m in GroupedAlert.objects.all()}
    assert set(members) == {NODE_A.fingerprint, NODE_B.fingerprint, NODE_C.fingerprint}
    a, b, c = (members[f.fingerprint] for f in (NODE_A, NODE_B, NODE_C))
    assert (a.firing, a.ends_at, a.first_seen, a.last_seen) == (
        False, ends, NOW, NOW + timedelta(minutes=5))
    assert b.firing and b.starts_at == NODE_B.starts_at and b.ends_at is None
    assert c.labels == NODE_C.labels and c.first_seen == NOW + timedelta(minutes=5)
    assert Ticket.objects.count() == 1


def test_a_member_without_a_fingerprint_is_kept_under_alertmanagers_own(
    grouped: Sender
) -> None:
    grouped.send(notification({**NODE_A.alert(), "fingerprint": ""}, group_by=GROUP))
    assert GroupedAlert.objects.get().fingerprint == NODE_A.fingerprint


def test_a_critical_alert_joining_a_medium_group_raises_the_ticket(
    grouped: Sender, people: dict[str, User], api: dict[str, Api]
) -> None:
    key = grouped.send(notification(NODE_A.alert(), NODE_B.alert(), group_by=GROUP))["created"][0]
    assert the_ticket().priority == Priority.MEDIUM

    grouped.send(notification(NODE_A.alert(), NODE_B.alert(), NODE_C.alert(), group_by=GROUP))

    ticket = the_ticket()
    assert ticket.priority == Priority.URGENT and ticket.version == 2
    raised = TimelineEvent.objects.filter(ticket=ticket, kind="fields_changed").get()
    assert raised.actor is None
    assert raised.data["changed"] == {"priority": {"from": "medium", "to": "urgent"}}
    assert raised.data["reason"]["code"] == "severer_alert"
    assert raised.data["reason"]["level"] == "critical"
    sla = [e.data["event"] for e in TimelineEvent.objects.filter(ticket=ticket, kind="sla")]
    assert sla[-1] == "recomputed"  # the urgent policy's targets now apply
    assert api["duty"].read(key)["priority"] == "urgent"


def test_a_new_group_opens_as_urgent_as_its_most_severe_firing_alert(grouped: Sender) -> None:
    grouped.send(notification(NODE_A.alert(), NODE_C.alert(resolved=True), NODE_B.alert(),
                              group_by=GROUP))
    assert the_ticket().priority == Priority.MEDIUM  # the critical one no longer fires
    other = Fault(alertname="DiskFull", severity="warning")
    worst = Fault(alertname="DiskFull", instance="db-01:9100", severity="critical")
    grouped.send(notification(other.alert(), worst.alert(), group_by=GROUP))
    disk = Alert.objects.select_related("ticket").get(identity__contains="DiskFull").ticket
    assert disk.priority == Priority.URGENT and disk.alert_level == "critical"


def test_opsdesk_never_lowers_a_priority_nor_overrides_a_person_who_did(
    grouped: Sender, api: dict[str, Api]
) -> None:
    key = grouped.send(notification(NODE_C.alert(), group_by=GROUP))["created"][0]
    assert the_ticket().priority == Priority.URGENT
    # The duty engineer judges it less urgent; the same alerts keep coming.
    response = api["duty"].patch(f"/tickets/{key}", {
        "version": api["duty"].read(key)["version"], "fields": {"priority": "high"}})
    assert response.status_code == 200, response.json()

    grouped.send(notification(NODE_C.alert(), group_by=GROUP))
    grouped.send(notification(NODE_A.alert(), group_by=GROUP))  # only a warning left firing

    assert the_ticket().priority == Priority.HIGH
    assert not TimelineEvent.objects.filter(kind="fields_changed", actor=None).exists()


def test_the_api_lists_the_alerts_of_a_ticket_and_of_its_group(
    grouped: Sender, api: dict[str, Api]
) -> None:
    with time_machine.travel(NOW, tick=False):
        key = grouped.send(notification(NODE_A.alert(), NODE_C.alert(),
                                        group_by=GROUP))["created"][0]

    response = api["duty"].get(f"/tickets/{key}/alerts")

    assert response.status_code == 200, response.json()
    (alert,) = response.json()
    assert alert["integration"] == "prometheus-prod" and alert["kind"] == "alertmanager"
    assert alert["identity"] == '{}:{alertname="NodeHighCPU"}'
    assert (alert["status"], alert["occurrences"]) == ("firing", 1)
    assert [(m["fingerprint"], m["status"], m["labels"]["instance"],
             parse_datetime(m["starts_at"]), m["ends_at"]) for m in alert["members"]] == [
        (NODE_A.fingerprint, "firing", "10.0.3.21:9100", NODE_A.starts_at, None),
        (NODE_C.fingerprint, "firing", "10.0.3.23:9100", NODE_C.starts_at, None),
    ]


def test_the_alerts_of_a_ticket_are_for_whoever_may_see_it(
    grouped: Sender, api: dict[str, Api]
) -> None:
    key = grouped.send(notification(NODE_A.alert(), group_by=GROUP))["created"][0]
    assert api["submitter"].get(f"/tickets/{key}/alerts").status_code == 404
    assert api["duty"].get("/tickets/OPS-999/alerts").status_code == 404
    assert Client().get(f"/api/v1/tickets/{key}/alerts").status_code == 401


def test_a_ticket_tracked_by_fingerprint_lists_its_one_alert(
    make_sender: Callable[..., Sender], api: dict[str, Api]
) -> None:
    key = make_sender().send(notification(NODE_A.alert()))["created"][0]
    (alert,) = api["duty"].get(f"/tickets/{key}/alerts").json()
    assert alert["identity"] == NODE_A.fingerprint and alert["members"] == []
    assert alert["labels"] == NODE_A.labels


def test_the_ticket_page_shows_every_alert_of_the_group(
    grouped: Sender, people: dict[str, User], client: Client
) -> None:
    hostile = Fault(instance="10.0.3.24:9100", severity="warning",
                    extra_labels={"team": "<script>alert(1)</script>"})
    key = grouped.send(notification(NODE_A.alert(resolved=True), NODE_B.alert(),
                                    hostile.alert(), group_by=GROUP))["created"][0]
    client.force_login(people["duty"])

    page = client.get(f"/tickets/{key}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "3 alerts in this group" in page
    for fault in (NODE_A, NODE_B, hostile):
        assert f"instance={fault.instance}" in page
    assert "<script>alert(1)</script>" not in page  # labels are the sender's text
    assert "team=&lt;script&gt;" in page


def test_a_group_back_after_its_ticket_closed_starts_with_its_alerts_of_now(
    grouped: Sender
) -> None:
    with time_machine.travel(NOW, tick=False):
        first = grouped.send(notification(NODE_A.alert(), NODE_B.alert(), group_by=GROUP))
        grouped.send(notification(NODE_A.alert(resolved=True), NODE_B.alert(resolved=True),
                                  group_by=GROUP))
    assert Ticket.objects.get().status == Status.CLOSED
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        again = grouped.send(notification(NODE_C.alert(), group_by=GROUP))
    assert again["created"] != first["created"]
    assert [m.fingerprint for m in Alert.objects.get().members.all()] == [NODE_C.fingerprint]
    assert Alert.objects.get().ticket.priority == Priority.URGENT
