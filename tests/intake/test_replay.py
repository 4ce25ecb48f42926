"""What could not be used stays, and an admin replays it once the cause is fixed: processed
exactly once, never a second ticket for a fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from opsdesk.intake import integrations, payloads
from opsdesk.intake.alerts import deduplication
from opsdesk.intake.errors import NotReplayable, PayloadRejected
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus, Integration
from opsdesk.tickets.models import Ticket
from tests.intake.conftest import Sender
from tests.intake.payloads import CPU, DISK, Fault, notification

CHANGELIST = "/admin/intake/inboundmessage/"


def rejected_for_want_of_a_group_key(make_sender: Callable[..., Sender]) -> tuple[Sender, int]:
    """An integration misconfigured to de-duplicate by group key, and a notification from an
    old webhook proxy that strips the group key: rejected, kept."""
    sender = make_sender(dedupe_by="group_key")
    payload = notification(CPU.alert(), DISK.alert())
    del payload["groupKey"]
    assert sender.post(payload).status_code == 422
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.REJECTED
    return sender, message.pk


def fix(sender: Sender) -> None:
    sender.integration.options = {"dedupe_by": "fingerprint"}
    sender.integration.save()


def test_replay_after_fixing_the_integration_processes_it_once(
    make_sender: Callable[..., Sender]
) -> None:
    sender, message_id = rejected_for_want_of_a_group_key(make_sender)
    fix(sender)

    result = payloads.replay(message_id=message_id)

    assert len(result["created"]) == 2 and Ticket.objects.count() == 2
    message = InboundMessage.objects.get(pk=message_id)
    assert message.status == InboundStatus.PROCESSED and message.error == ""
    assert message.attempts == 2 and message.result == result
    with pytest.raises(NotReplayable):
        payloads.replay(message_id=message_id)
    # Alertmanager's next notification of the same faults counts on the same tickets.
    again = sender.send(notification(CPU.alert(), DISK.alert()))
    assert again["created"] == [] and sorted(again["repeated"]) == sorted(result["created"])
    assert Ticket.objects.count() == 2
    assert sorted(Alert.objects.values_list("occurrences", flat=True)) == [2, 2]


def test_a_replay_that_fails_again_stays_rejected_with_its_attempts_counted(
    make_sender: Callable[..., Sender]
) -> None:
    _sender, message_id = rejected_for_want_of_a_group_key(make_sender)
    with pytest.raises(PayloadRejected):
        payloads.replay(message_id=message_id)
    message = InboundMessage.objects.get(pk=message_id)
    assert message.status == InboundStatus.REJECTED and message.attempts == 2
    assert "groupKey" in message.error


def test_a_message_that_failed_on_a_bug_is_kept_and_replayed_after_the_fix(
    sender: Sender, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("simulated bug")

    message = payloads.store_inbound(
        integration=sender.integration, channel="alertmanager",
        body=sender_body(notification(CPU.alert())),
    )
    with monkeypatch.context() as patch:
        patch.setattr(deduplication, "receive_alerts", broken)
        with pytest.raises(RuntimeError):
            payloads.process(message=message)
    message.refresh_from_db()
    assert message.status == InboundStatus.FAILED and "simulated bug" in message.error
    assert Ticket.objects.count() == 0  # the half-done work rolled back

    assert len(payloads.replay(message_id=message.pk)["created"]) == 1
    assert InboundMessage.objects.get(pk=message.pk).status == InboundStatus.PROCESSED


def sender_body(payload: Any) -> bytes:
    import json

    return json.dumps(payload, ensure_ascii=False).encode()


def test_the_admin_replays_the_selected_messages(
    make_sender: Callable[..., Sender], admin_client: Client
) -> None:
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    sender, message_id = rejected_for_want_of_a_group_key(make_sender)
    page = admin_client.get(f"{CHANGELIST}{message_id}/change/")
    assert page.status_code == 200 and "groupKey" in page.content.decode()
    fix(sender)

    response = admin_client.post(
        CHANGELIST, {"action": "replay", "_selected_action": [message_id]}, follow=True
    )

    assert response.status_code == 200
    assert f"#{message_id}" in response.content.decode()
    assert InboundMessage.objects.get(pk=message_id).status == InboundStatus.PROCESSED
    assert Ticket.objects.count() == 2
    # A second click does not count the alerts again.
    again = admin_client.post(
        CHANGELIST, {"action": "replay", "_selected_action": [message_id]}, follow=True
    )
    assert "already processed" in again.content.decode()
    assert Ticket.objects.count() == 2
    assert list(Alert.objects.values_list("occurrences", flat=True)) == [1, 1]


def test_the_admin_shows_a_new_integration_secret_once_and_it_works(
    admin_client: Client, db: None
) -> None:
    response = admin_client.post("/admin/intake/integration/add/", {
        "name": "prometheus-dc2", "kind": "alertmanager", "enabled": "on",
        "options": '{"auto_close_resolved": false}',
    }, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    secret = text[text.index("whk_"):].split("<")[0].split()[0]
    sender = Sender(integrations.authenticate(kind="alertmanager", presented=secret,
                                          remote_addr="test"), secret)
    assert sender.integration.options == {"auto_close_resolved": False}
    sender.send(notification(CPU.alert()))
    assert Ticket.objects.count() == 1


def test_the_admin_refuses_options_with_a_typo(admin_client: Client, db: None) -> None:
    response = admin_client.post("/admin/intake/integration/add/", {
        "name": "prometheus-dc2", "kind": "alertmanager", "enabled": "on",
        "options": '{"dedupe_by": "groupkey", "severity_priority": {"critical": "P1"}}',
    })
    assert response.status_code == 200  # the form again, with the problems
    text = response.content.decode()
    assert "dedupe_by" in text and "severity_priority" in text
    assert not Integration.objects.exists()


def test_the_admin_shows_a_partly_rejected_notification_and_replays_only_its_refused_alerts(
    sender: Sender, admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsdesk.intake.alerts import alertmanager

    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    real = alertmanager._notice

    def refusing_disk(index: int, alert: Any, *args: Any, **kwargs: Any) -> Any:
        if alert["fingerprint"] == DISK.fingerprint:
            raise PayloadRejected("simulated bug")
        return real(index, alert, *args, **kwargs)

    monkeypatch.setattr(alertmanager, "_notice", refusing_disk)
    sender.send(notification(CPU.alert(), DISK.alert()))
    monkeypatch.setattr(alertmanager, "_notice", real)
    message_id = InboundMessage.objects.get().pk
    listing = admin_client.get(f"{CHANGELIST}?status__exact=partly_rejected").content.decode()
    assert "Partly rejected" in listing and "simulated bug" in listing

    admin_client.post(CHANGELIST, {"action": "replay", "_selected_action": [message_id]})

    assert InboundMessage.objects.get(pk=message_id).status == InboundStatus.PROCESSED
    assert Ticket.objects.count() == 2
    assert list(Alert.objects.values_list("occurrences", flat=True)) == [1, 1]


def test_the_admin_shows_the_alerts_of_a_group(
    make_sender: Callable[..., Sender], admin_client: Client
) -> None:
    sender = make_sender(dedupe_by="group_key")
    node_b = Fault(instance="10.0.3.99:9100")
    sender.send(notification(CPU.alert(), node_b.alert(), group_by=("alertname",)))
    page = admin_client.get(f"/admin/intake/alert/{Alert.objects.get().pk}/change/")
    assert page.status_code == 200
    assert CPU.fingerprint in page.content.decode() and node_b.fingerprint in page.content.decode()
