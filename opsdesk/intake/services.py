"""Every write of intake: integrations and their secrets, raw payloads stored before use, and
alerts turned into tickets (one per fault) or into occurrences on the ticket already open."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.intake import alertmanager
from opsdesk.intake.errors import BadSecret, IntegrationDisabled, NotReplayable, PayloadRejected
from opsdesk.intake.mail import services as mail
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus, Integration
from opsdesk.runtime import rows
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, SourceKind, Status
from opsdesk.tickets.errors import DomainError
from opsdesk.tickets.models import Ticket, TimelineEvent

log = logging.getLogger(__name__)

# Priority → the impact and urgency that give it in the default matrix (alerts carry no
# human judgement of either; the severity label decides).
IMPACT_URGENCY = {
    "urgent": ("all_users", "immediate"),
    "high": ("some_users", "high"),
    "medium": ("few_users", "normal"),
    "low": ("none", "low"),
}
# Nobody has acknowledged a ticket in these states: a resolution may close it by itself.
UNACKNOWLEDGED = (Status.NEW, Status.ASSIGNED)
FINISHED = (Status.CLOSED, Status.ARCHIVED)
# What a fault that comes back after its ticket closed writes over its old alert row.
ALERT_REOPENED = ("ticket_id", "firing", "occurrences", "first_seen", "last_seen",
                  "resolved_at", "labels")


@dataclass
class KnownAlert:
    """What deciding on a notification needs of an alert and of its ticket. Read as plain
    rows: a storm's notification reads a hundred of them inside the write transaction every
    other notification waits for, and two model instances each cost more than the query."""

    pk: int
    identity: str
    ticket_id: int
    ticket_status: str
    firing: bool
    occurrences: int
    resolved_at: datetime | None

    @property
    def ticket_key(self) -> str:
        return Ticket.key_of(self.ticket_id)

    @property
    def finished(self) -> bool:
        return self.ticket_status in FINISHED

    @classmethod
    def opened(cls, alert: Alert, ticket: Ticket) -> KnownAlert:
        return cls(alert.pk, alert.identity, ticket.pk, ticket.status, alert.firing,
                   alert.occurrences, alert.resolved_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_integration(*, name: str, kind: str, options: dict[str, Any] | None = None,
                       enabled: bool = True) -> tuple[Integration, str]:
    """A new integration and its secret, returned once (only its digest is stored)."""
    raw = "whk_" + secrets.token_urlsafe(32)
    integration = Integration.objects.create(
        name=name, kind=kind, options=options or {}, enabled=enabled, secret_prefix=raw[:10],
        secret_digest=_digest(raw),
    )
    return integration, raw


def rotate_secret(*, integration: Integration) -> str:
    """A new secret for ``integration`` (the old one stops working at once), returned once."""
    raw = "whk_" + secrets.token_urlsafe(32)
    integration.secret_prefix, integration.secret_digest = raw[:10], _digest(raw)
    integration.save(update_fields=["secret_prefix", "secret_digest"])
    return raw


def authenticate(*, kind: str, presented: str | None, remote_addr: str) -> Integration:
    """The enabled integration of ``kind`` whose secret was presented; BadSecret or
    IntegrationDisabled otherwise. A refusal is logged with the caller's address and the
    integration, never with what was presented."""
    integration = (
        Integration.objects.filter(kind=kind, secret_digest=_digest(presented)).first()
        if presented else None
    )
    if integration is None:
        log.warning("intake %s: refused a request from %s with a wrong or missing secret",
                    kind, remote_addr)
        raise BadSecret(_("Wrong or missing integration secret."))
    if not integration.enabled:
        log.warning("intake %s: refused a request from %s for the disabled integration %s",
                    kind, remote_addr, integration.name)
        raise IntegrationDisabled(
            _("The integration %s is disabled; an administrator can enable it again.")
            % integration.name
        )
    return integration


def store_inbound(*, integration: Integration | None, channel: str, body: bytes,
                  content_type: str = "", remote_addr: str = "",
                  headers: dict[str, str] | None = None) -> InboundMessage:
    """Keep the payload exactly as received, committed before anything else happens, with the
    request headers its use depends on (an idempotency key; never a secret)."""
    with transaction.atomic():
        return InboundMessage.objects.create(
            integration=integration, channel=channel, body=body,
            content_type=content_type[:100], remote_addr=remote_addr[:64], headers=headers or {},
        )


# How a decoded payload of an integration is used: (integration, payload, message) → result.
Receiver = Callable[[Integration, Any, InboundMessage], dict[str, Any]]
# Kinds other than Alertmanager, registered by IntakeConfig.ready().
RECEIVERS: dict[str, Receiver] = {}


@dataclass
class AlertOutcome:
    created: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    ignored: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "repeated": self.repeated, "resolved": self.resolved,
                "closed": self.closed, "ignored": self.ignored}


def process(*, message: InboundMessage) -> dict[str, Any]:
    """Use a stored payload. Its effects and its "processed" mark commit together, so a crash
    leaves it either wholly used or still "received". A payload that cannot be used is marked
    rejected with the reason (and the error re-raised for the HTTP answer); it stays for replay.
    The payload is decoded before the write transaction begins: on SQLite that transaction
    holds the database's one write lock, which the other server workers wait for."""
    message.attempts += 1
    try:
        use = _decode(message)
        with transaction.atomic():
            result = use()
            message.finish(InboundStatus.PROCESSED, result=result)
    except DomainError as error:
        message.finish(InboundStatus.REJECTED, error=error.message)
        raise
    except Exception as error:
        message.finish(InboundStatus.FAILED, error=f"{type(error).__name__}: {error}")
        raise
    return result


def _decode(message: InboundMessage) -> Callable[[], dict[str, Any]]:
    """The payload read and checked; returns what uses it (inside the write transaction)."""
    integration = message.integration
    if integration is None:
        raise PayloadRejected(_("The message has no integration."))
    try:
        payload = json.loads(bytes(message.body))
    except (ValueError, UnicodeDecodeError) as error:
        raise PayloadRejected(_("The payload is not valid JSON: %s") % error) from error
    receiver = RECEIVERS.get(integration.kind)
    if receiver is not None:
        return lambda: receiver(integration, payload, message)
    notices = alertmanager.parse(payload, integration.options)
    return lambda: receive_alerts(integration=integration, notices=notices).as_dict()


def receive_alerts(*, integration: Integration, notices: list[alertmanager.AlertNotice]
                   ) -> AlertOutcome:
    """One ticket per fault: a new identity opens a ticket, a repeat counts an occurrence on
    the open ticket, a resolution is noted (and closes a ticket nobody acknowledged)."""
    now = timezone.now()
    outcome = AlertOutcome()
    # Identities in one order in every transaction: two concurrent notifications wait for
    # each other's new alerts in that order, never in a cycle (no deadlock on PostgreSQL).
    notices = sorted(notices, key=lambda n: n.identity)
    known = _locked_alerts(integration, {n.identity for n in notices})
    modules: dict[str, Module | None] = {}
    opened_by = _open_new_faults(integration, notices, known, now, modules)
    events: list[TimelineEvent] = []
    seen_with: dict[int, int] = {}  # alert → its occurrences before this notification
    to_close: dict[int, KnownAlert] = {}
    for notice in notices:
        alert = known.get(notice.identity)
        if opened_by.get(notice.identity) is notice:
            opened_alert = known[notice.identity]
            outcome.created.append(opened_alert.ticket_key)
            events.append(_event(opened_alert, "firing", now, labels=notice.labels))
            continue
        if notice.firing and (alert is None or alert.finished):
            alert, opened = _open_or_find(integration, notice, alert, now, modules)
            known[notice.identity] = alert
            if opened:
                outcome.created.append(alert.ticket_key)
                events.append(_event(alert, "firing", now, labels=notice.labels))
                continue
        if alert is None or alert.finished:
            outcome.ignored += 1  # a resolution for a fault we never opened, or closed
            continue
        seen_with.setdefault(alert.pk, alert.occurrences)
        if notice.firing:
            alert.occurrences += 1
            alert.firing, alert.resolved_at = True, None
            to_close.pop(alert.pk, None)  # it fired again in the same notification
            outcome.repeated.append(alert.ticket_key)
            events.append(_event(alert, "firing", now))
        elif alert.firing:
            alert.firing, alert.resolved_at = False, notice.ends_at or now
            outcome.resolved.append(alert.ticket_key)
            events.append(_event(alert, "resolved", now, ends_at=notice.ends_at))
            if _auto_closes(integration):
                to_close[alert.pk] = alert
    _save_occurrences([a for a in known.values() if a.pk in seen_with], seen_with, now)
    tickets.append_events(events)
    for alert in sorted(to_close.values(), key=lambda a: a.ticket_id):
        if _close_unacknowledged(alert.ticket_id):
            outcome.closed.append(alert.ticket_key)
    return outcome


def _auto_closes(integration: Integration) -> bool:
    options = integration.options
    return not isinstance(options, dict) or options.get("auto_close_resolved", True) is not False


def _save_occurrences(alerts: list[KnownAlert], seen_with: dict[int, int], now: datetime) -> None:
    """Write the alerts' new counts and states: one UPDATE per kind of change (in a storm,
    "one more occurrence, still firing" covers nearly all), not one per alert."""
    changes: dict[tuple[int, bool, datetime | None], list[int]] = defaultdict(list)
    for alert in alerts:
        added = alert.occurrences - seen_with[alert.pk]
        changes[(added, alert.firing, alert.resolved_at)].append(alert.pk)
    # Plain SQL: the ORM compiles each UPDATE with its list of ids anew, which cost more than
    # the database's work, inside the write transaction every other notification waits for.
    ops = connection.ops
    table = ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        for (added, firing, resolved_at), ids in changes.items():
            for start in range(0, len(ids), 500):  # within every database's parameter limit
                some = ids[start:start + 500]
                cursor.execute(
                    f"UPDATE {table} SET occurrences = occurrences + %s, firing = %s, "
                    f"resolved_at = %s, last_seen = %s "
                    f"WHERE id IN ({', '.join(['%s'] * len(some))})",
                    [added, firing, ops.adapt_datetimefield_value(resolved_at),
                     ops.adapt_datetimefield_value(now), *some],
                )


def _locked_alerts(integration: Integration, identities: set[str]) -> dict[str, KnownAlert]:
    """The known alerts among ``identities``, locked for this transaction (PostgreSQL), in
    primary-key order, with their tickets' status."""
    found = (
        Alert.objects.select_for_update(of=("self",))
        .filter(integration=integration, identity__in=identities).order_by("pk")
        .values_list("pk", "identity", "ticket_id", "ticket__status", "firing", "occurrences",
                     "resolved_at")
    )
    return {row[1]: KnownAlert(*row) for row in found}


def _event(alert: KnownAlert, status: str, now: datetime, *, ends_at: datetime | None = None,
           labels: dict[str, str] | None = None) -> TimelineEvent:
    data: dict[str, Any] = {"status": status, "occurrences": alert.occurrences,
                            "identity": alert.identity}
    if ends_at is not None:
        data["ends_at"] = ends_at.isoformat()
    if labels is not None:
        data["labels"] = labels
    return TimelineEvent(ticket_id=alert.ticket_id, kind=TimelineEvent.Kind.ALERT, actor=None,
                         at=now, data=data)


def _close_unacknowledged(ticket_id: int) -> bool:
    """Dismiss the ticket if, now that it is locked, nobody has acknowledged it yet."""
    ticket = (Ticket.objects.select_for_update(of=("self",)).only("status", "version")
              .get(pk=ticket_id))
    if ticket.status not in UNACKNOWLEDGED:
        return False
    tickets.do_transition(
        ticket_id=ticket_id, action="dismiss", by=None, version=ticket.version,
        fields={"reason": _("The alert resolved before anyone acknowledged it.")},
    )
    return True


def _open_new_faults(integration: Integration, notices: list[alertmanager.AlertNotice],
                     known: dict[str, KnownAlert], now: datetime,
                     modules: dict[str, Module | None]) -> dict[str, alertmanager.AlertNotice]:
    """Open the tickets of the faults this notification reveals — identities whose first
    notice here fires while no open ticket has them — all at once (an alert storm's new
    faults cost a few statements, not a few per fault). Returns identity → the notice that
    opened it. When a concurrent notification registered one of them first, nothing is kept
    and the faults are opened one by one instead (``_open_or_find``)."""
    first: dict[str, alertmanager.AlertNotice] = {}
    for notice in notices:
        first.setdefault(notice.identity, notice)
    new = [n for n in first.values() if n.firing and (
        n.identity not in known or known[n.identity].finished)]
    if not new:
        return {}
    try:
        with transaction.atomic():  # a savepoint: on a conflict, none of these tickets stays
            opened = tickets.create_tickets(
                by=None, specs=[_ticket_spec(integration, n, now, modules) for n in new])
            alerts = [_alert_for(integration, n, ticket, known.get(n.identity), now)
                      for n, ticket in zip(new, opened, strict=True)]
            rows.insert([alert for alert in alerts if alert.pk is None])
    except IntegrityError:
        return {}
    known.update({alert.identity: KnownAlert.opened(alert, ticket)
                  for alert, ticket in zip(alerts, opened, strict=True)})
    return {notice.identity: notice for notice in new}


def _alert_for(integration: Integration, notice: alertmanager.AlertNotice, ticket: Ticket,
               previous: KnownAlert | None, now: datetime) -> Alert:
    """The alert of a newly opened ticket: a new one, or the fault's old alert, saved again
    now that it came back after its ticket was closed."""
    alert = Alert(integration=integration, identity=notice.identity, ticket=ticket,
                  first_seen=now, last_seen=now, labels=notice.labels)
    if previous is not None:
        alert.pk = previous.pk
        alert.save(update_fields=ALERT_REOPENED)
    return alert


def _open_or_find(integration: Integration, notice: alertmanager.AlertNotice,
                  previous: KnownAlert | None, now: datetime,
                  modules: dict[str, Module | None]) -> tuple[KnownAlert, bool]:
    """A new ticket for the fault, and True; or, when a concurrent notification registered
    the same new fault first, its alert (now locked), and False: a repeat, not a second ticket."""
    try:
        with transaction.atomic():  # a savepoint: the losing ticket vanishes with it
            return _open_ticket(integration, notice, previous, now, modules), True
    except IntegrityError:
        if previous is not None:
            raise
        winner = _locked_alerts(integration, {notice.identity}).get(notice.identity)
        if winner is None:
            raise
        return winner, False


def _module(ref: str, modules: dict[str, Module | None]) -> Module | None:
    """The module a label names (looked up once per notification), or None."""
    if ref not in modules:
        modules[ref] = get_module_by_ref(ref)
    return modules[ref]


def _ticket_spec(integration: Integration, notice: alertmanager.AlertNotice, now: datetime,
                 modules: dict[str, Module | None]) -> dict[str, Any]:
    impact, urgency = IMPACT_URGENCY[notice.priority]
    return {
        "title": notice.title, "impact": impact, "urgency": urgency, "priority": notice.priority,
        "source_kind": SourceKind.ALERT, "channel": Channel(integration.kind),
        "submitter_name": integration.name,
        "module": _module(notice.module, modules) if notice.module else None,
        "occurred_at": notice.starts_at, "alert_at": notice.starts_at or now,
        "alert_host": notice.host, "alert_rule": notice.rule, "alert_level": notice.level,
        "alert_symptom": notice.symptom, "description": notice.description,
    }


def _open_ticket(integration: Integration, notice: alertmanager.AlertNotice,
                 previous: KnownAlert | None, now: datetime,
                 modules: dict[str, Module | None]) -> KnownAlert:
    ticket = tickets.create_ticket(by=None, **_ticket_spec(integration, notice, now, modules))
    alert = _alert_for(integration, notice, ticket, previous, now)
    if alert.pk is None:
        alert.save()
    return KnownAlert.opened(alert, ticket)


def replay(*, message_id: int) -> dict[str, Any]:
    """Process a stored message again (after fixing the integration or the code). Only a
    message not yet used may be replayed: a processed one already counted its alerts. Two
    admins replaying the same message at once process it once."""
    with transaction.atomic():
        message = (InboundMessage.objects.select_for_update(of=("self",))
                   .select_related("integration").filter(pk=message_id).first())
        if message is None:
            raise NotReplayable(_("There is no message #%s.") % message_id)
        if message.status == InboundStatus.PROCESSED:
            raise NotReplayable(_("Message #%s was already processed.") % message.pk)
        try:
            if message.channel == Channel.EMAIL:
                return mail.process_message(message=message)
            return process(message=message)
        except Exception as error:  # its mark (rejected, failed) commits with this block
            failure = error
    raise failure
