"""What a stored payload of each monitoring source becomes: read into notices (before the write
transaction, which on SQLite holds the database's one write lock), then handed to
``deduplication`` so that a repeat never opens a second ticket. Each receiver is a row of
``payloads.RECEIVERS``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.utils import timezone

from opsdesk.intake.alerts import alertmanager, deduplication, zabbix
from opsdesk.intake.alerts.notices import AlertNotice
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus, Integration
from opsdesk.tickets import services as tickets
from opsdesk.tickets.models import TimelineEvent


def receive_alertmanager(integration: Integration, payload: Any, message: InboundMessage
                         ) -> Callable[[], dict[str, Any]]:
    """An Alertmanager notification read; the write returned takes its usable alerts, lists
    the refused ones with their reasons, and notes on its tickets how many alerts Alertmanager
    left out of it. A replay of a partly rejected notification takes up only the alerts
    refused before."""
    only = None
    if message.status == InboundStatus.PARTLY_REJECTED:
        only = frozenset(r["index"] for r in message.result.get("refused", []))
    return partial(_take_notification, integration,
                   alertmanager.parse(payload, integration.options, only=only))


def _take_notification(integration: Integration, notification: alertmanager.Notification
                       ) -> dict[str, Any]:
    outcome = deduplication.receive_alerts(integration=integration,
                                           notices=notification.notices,
                                           truncated=notification.truncated)
    return {**outcome.as_dict(), "truncated": notification.truncated,
            "refused": [{"index": r.index, "reason": r.reason} for r in notification.refused]}


def receive_zabbix(integration: Integration, payload: Any, message: InboundMessage
                   ) -> Callable[[], dict[str, Any]]:
    """A Zabbix event read; the write returned keeps one ticket per problem event: a problem
    opens it (a resent problem counts an occurrence), an update is noted on its timeline, a
    recovery resolves it and, unless the integration says otherwise, closes it if nobody
    acknowledged it, in opsdesk or in Zabbix. An acknowledgement in Zabbix only keeps the
    ticket from that closing; the SLA response clock waits for a response in opsdesk."""
    event = zabbix.parse(payload, integration.options)
    if isinstance(event, zabbix.ZabbixUpdate):
        return partial(_note_zabbix_update, integration, event)
    return partial(_take_zabbix_event, integration, event)


def _take_zabbix_event(integration: Integration, notice: AlertNotice) -> dict[str, Any]:
    """A problem or its recovery, with the ticket it opened, repeated or resolved."""
    outcome = deduplication.receive_alerts(integration=integration, notices=[notice]).as_dict()
    keys = outcome["created"] + outcome["repeated"] + outcome["resolved"]
    return {"event": "problem" if notice.firing else "recovery",
            "ticket": keys[0] if keys else None, **outcome}


def _note_zabbix_update(integration: Integration, update: zabbix.ZabbixUpdate
                        ) -> dict[str, Any]:
    """The update on the problem's ticket: who did what, with their comment. An
    acknowledgement is remembered on the alert (withdrawing it forgets it), so that the
    recovery leaves the ticket for the engineer instead of closing it as unanswered."""
    alert = (Alert.objects.select_for_update(of=("self",)).select_related("ticket")
             .filter(integration=integration, identity=update.identity).first())
    if alert is None:
        return {"event": "update", "ticket": None, "ignored": 1}
    if update.acknowledged is not None:
        alert.acknowledged_at = (update.at or timezone.now()) if update.acknowledged else None
        alert.acknowledged_by = update.user[:255] if update.acknowledged else ""
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    data: dict[str, Any] = {"status": "updated", "identity": update.identity, "user": update.user,
            "action": update.action, "message": update.message, "severity": update.severity}
    if update.acknowledged is not None:
        data["acknowledged"] = update.acknowledged
    tickets.record_event(ticket=alert.ticket, kind=TimelineEvent.Kind.ALERT, actor=None,
                         data=data)
    return {"event": "update", "ticket": alert.ticket.key, "ignored": 0}
