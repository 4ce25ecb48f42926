"""De-duplication of alerts, whatever their source: one ticket per fault. A new identity opens a
ticket, a repeat counts an occurrence on the open ticket (raising its priority when a more
severe alert joins the fault, never lowering it), a resolution is noted and closes a ticket
nobody responded to, in opsdesk or at the source, and a fault back after its ticket closed
opens a new ticket linked to the old as a recurrence. A notification's alerts are decided
together, in one transaction, in few statements: an alert storm's notification of a hundred
alerts holds SQLite's one write lock for milliseconds.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.errors import DomainError
from opsdesk.intake.alerts.notices import IMPACT_URGENCY, AlertNotice
from opsdesk.intake.models import Alert, GroupedAlert, Integration, IntegrationKind
from opsdesk.runtime import rows
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, Priority, SourceKind, Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket, TimelineEvent

log = logging.getLogger(__name__)

# Nobody has acknowledged a ticket in these states: a resolution may close it by itself.
UNACKNOWLEDGED = (Status.NEW, Status.ASSIGNED)
FINISHED = (Status.CLOSED, Status.ARCHIVED)
# What a fault that comes back after its ticket closed writes over its old alert row.
ALERT_REOPENED = ("ticket_id", "firing", "occurrences", "first_seen", "last_seen",
                  "resolved_at", "labels", "peak_priority", "acknowledged_at",
                  "acknowledged_by")


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
    peak_priority: int
    acknowledged_at: datetime | None

    @property
    def ticket_key(self) -> str:
        return Ticket.key_of(self.ticket_id)

    @property
    def finished(self) -> bool:
        return self.ticket_status in FINISHED

    @classmethod
    def opened(cls, alert: Alert, ticket: Ticket) -> KnownAlert:
        return cls(alert.pk, alert.identity, ticket.pk, ticket.status, alert.firing,
                   alert.occurrences, alert.resolved_at, alert.peak_priority,
                   alert.acknowledged_at)


@dataclass
class AlertOutcome:
    created: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    ignored: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "repeated": self.repeated, "resolved": self.resolved,
                "closed": self.closed, "ignored": self.ignored, "notes": self.notes}


def receive_alerts(*, integration: Integration, notices: list[AlertNotice],
                   truncated: int = 0) -> AlertOutcome:
    """One ticket per fault: a new identity opens a ticket, a repeat counts an occurrence on
    the open ticket (raising its priority if a more severe alert joined the fault), a
    resolution is noted (and closes a ticket nobody acknowledged). ``truncated`` alerts that
    the notification left out are noted on each of its tickets."""
    now = timezone.now()
    outcome = AlertOutcome(notes=[note for notice in notices for note in notice.notes])
    # Identities in one order in every transaction: two concurrent notifications wait for
    # each other's new alerts in that order, never in a cycle (no deadlock on PostgreSQL).
    notices = sorted(notices, key=lambda n: n.identity)
    known = _locked_alerts(integration, {n.identity for n in notices})
    modules: dict[str, Module | None] = {}
    opened_by = _open_new_faults(integration, notices, known, now, modules)
    events: list[TimelineEvent] = []
    seen_with: dict[int, int] = {}  # alert → its occurrences before this notification
    to_close: dict[int, KnownAlert] = {}
    touched: dict[int, KnownAlert] = {}  # ticket → an alert of this notification on it
    groups: list[tuple[KnownAlert, AlertNotice]] = []
    acknowledged: list[KnownAlert] = []
    for notice in notices:
        alert = known.get(notice.identity)  # _open_new_faults put the faults it opened there
        opened = opened_by.get(notice.identity) is notice
        if not opened and notice.firing and (alert is None or alert.finished):
            alert, opened = _open_or_find(integration, notice, alert, now, modules)
            known[notice.identity] = alert
        if alert is None or alert.finished:
            outcome.ignored += 1  # a resolution for a fault we never opened, or closed
            continue
        if notice.acknowledged and alert.acknowledged_at is None:
            alert.acknowledged_at = now
            acknowledged.append(alert)
        if opened:
            outcome.created.append(alert.ticket_key)
            events.append(_event(alert, "firing", now, labels=notice.labels))
        else:
            _take(alert, notice, now, outcome, events, seen_with, to_close)
        touched.setdefault(alert.ticket_id, alert)
        if notice.members:
            groups.append((alert, notice))
    _save_occurrences([a for a in known.values() if a.pk in seen_with], seen_with, now)
    _save_members(groups, now)
    _save_acknowledgements(acknowledged)
    if truncated:
        events += [_event(alert, "truncated", now, truncated=truncated)
                   for alert in touched.values()]
    tickets.append_events(events)
    _raise_priorities(known.values(), [n for n in notices if n.firing])
    if _auto_closes(integration):
        for alert in sorted(to_close.values(), key=lambda a: a.ticket_id):
            if alert.acknowledged_at is None and _close_unacknowledged(alert.ticket_id):
                outcome.closed.append(alert.ticket_key)
    return outcome


def _take(alert: KnownAlert, notice: AlertNotice, now: datetime,
          outcome: AlertOutcome, events: list[TimelineEvent], seen_with: dict[int, int],
          to_close: dict[int, KnownAlert]) -> None:
    """A notice of a fault whose ticket is open: one more occurrence, or its resolution."""
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
        events.append(_event(alert, "resolved", now, ends_at=notice.ends_at,
                             acknowledged=alert.acknowledged_at is not None))
        to_close[alert.pk] = alert


def _save_members(groups: list[tuple[KnownAlert, AlertNotice]],
                  now: datetime) -> None:
    """Every alert of each group as its notification describes it now (an alert that left
    the group keeps what was last said of it)."""
    # One row per alert: an upsert may not touch a row twice (PostgreSQL), and a notification
    # may carry an alert twice; the last word stands.
    members = {
        (alert.pk, member.fingerprint[:64]): GroupedAlert(
            alert_id=alert.pk, fingerprint=member.fingerprint[:64], firing=member.firing,
            labels=member.labels, starts_at=member.starts_at, ends_at=member.ends_at,
            first_seen=now, last_seen=now)
        for alert, notice in groups for member in notice.members
    }
    if members:
        GroupedAlert.objects.bulk_create(
            list(members.values()), update_conflicts=True, unique_fields=["alert", "fingerprint"],
            update_fields=["firing", "labels", "starts_at", "ends_at", "last_seen"],
        )


def _save_acknowledgements(alerts: list[KnownAlert]) -> None:
    """The monitoring system says a person acknowledged these faults (its events carry it)."""
    for alert in alerts:
        Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=alert.acknowledged_at)


def _raise_priorities(alerts: Iterable[KnownAlert],
                      firing: list[AlertNotice]) -> None:
    """A fault whose firing alerts now ask for a more urgent priority than it ever did (a
    critical alert joined a group of warnings) raises its ticket, through the tickets service
    (a timeline event, the SLA recomputed). Never lowers one: a person may have."""
    by_identity = {alert.identity: alert for alert in alerts}
    for notice in firing:
        alert = by_identity.get(notice.identity)
        asked = Priority.from_code(notice.priority)
        if alert is None or alert.finished or asked >= alert.peak_priority:
            continue
        alert.peak_priority = asked
        Alert.objects.filter(pk=alert.pk).update(peak_priority=asked)
        tickets.raise_priority(
            ticket_id=alert.ticket_id, priority=asked,
            reason={"code": "severer_alert", "level": notice.level or notice.priority,
                    "title": notice.title},
        )


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
                     "resolved_at", "peak_priority", "acknowledged_at")
    )
    return {row[1]: KnownAlert(*row) for row in found}


def _event(alert: KnownAlert, status: str, now: datetime, *, ends_at: datetime | None = None,
           labels: dict[str, str] | None = None, truncated: int = 0,
           acknowledged: bool = False) -> TimelineEvent:
    data: dict[str, Any] = {"status": status, "occurrences": alert.occurrences,
                            "identity": alert.identity}
    if ends_at is not None:
        data["ends_at"] = ends_at.isoformat()
    if labels is not None:
        data["labels"] = labels
    if truncated:
        data["truncated"] = truncated
    if acknowledged:
        data["acknowledged"] = True  # so it stays open: someone responded in the source
    return TimelineEvent(ticket_id=alert.ticket_id, kind=TimelineEvent.Kind.ALERT, actor=None,
                         at=now, data=data)


def _close_unacknowledged(ticket_id: int) -> bool:
    """Dismiss the ticket if, now that it is locked, nobody has acknowledged it yet. A ticket
    the worker had not dispatched yet is dispatched first (``lock_dispatched``), so the state
    and version read are the routed ticket's and the sender never hears of that race. Should
    the close still be refused, the resolution stays recorded and the ticket open: it never
    costs the notification its other alerts."""
    ticket = tickets.lock_dispatched(ticket_id=ticket_id)
    if ticket.status not in UNACKNOWLEDGED:
        return False
    try:
        # Its own savepoint undoes only the close; the dispatch before it keeps.
        tickets.do_transition(
            ticket_id=ticket_id, action="dismiss", by=None, version=ticket.version,
            fields={"reason": _("The alert resolved before anyone acknowledged it.")},
            reason_code="alert_resolved_unacknowledged",
        )
    except DomainError as refusal:
        log.warning("intake: closing ticket %s was refused (%s); left open", ticket_id,
                    refusal.message)
        return False
    return True


def _open_new_faults(integration: Integration, notices: list[AlertNotice],
                     known: dict[str, KnownAlert], now: datetime,
                     modules: dict[str, Module | None]) -> dict[str, AlertNotice]:
    """Open the tickets of the faults this notification reveals — identities whose first
    notice here fires while no open ticket has them — all at once (an alert storm's new
    faults cost a few statements, not a few per fault). Returns identity → the notice that
    opened it. When a concurrent notification registered one of them first, nothing is kept
    and the faults are opened one by one instead (``_open_or_find``)."""
    first: dict[str, AlertNotice] = {}
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


def _alert_for(integration: Integration, notice: AlertNotice, ticket: Ticket,
               previous: KnownAlert | None, now: datetime) -> Alert:
    """The alert of a newly opened ticket: a new one, or the fault's old alert, saved again
    now that it came back after its ticket was closed. The old ticket keeps the record of
    the fault as it was under it (on its timeline), and the two are linked: the new ticket is
    a recurrence of the old."""
    alert = Alert(integration=integration, identity=notice.identity, ticket=ticket,
                  first_seen=now, last_seen=now, labels=notice.labels,
                  peak_priority=Priority.from_code(notice.priority),
                  acknowledged_at=now if notice.acknowledged else None)
    if previous is not None:
        _keep_record(previous, ticket, now)
        alert.pk = previous.pk
        alert.save(update_fields=ALERT_REOPENED)
        GroupedAlert.objects.filter(alert_id=previous.pk).delete()  # the old ticket's group
    elif (earlier := _closed_ticket_of_same_trigger(integration, notice)) is not None:
        tickets.link_recurrence(ticket=ticket, original_id=earlier, at=now)
    return alert


def _closed_ticket_of_same_trigger(integration: Integration,
                                   notice: AlertNotice) -> int | None:
    """Zabbix names every problem by a new event id, so a trigger firing again is a new
    identity: its fault recurred if an earlier problem of that trigger (one host's check) has
    a closed ticket; the latest one is the ticket it recurs from."""
    trigger = notice.labels.get("trigger_id")
    if integration.kind != IntegrationKind.ZABBIX or not trigger:
        return None
    earlier = Alert.objects.filter(integration=integration, labels__trigger_id=trigger,
                                   ticket__status__in=(Status.CLOSED, Status.ARCHIVED))
    return earlier.order_by("-ticket_id").values_list("ticket_id", flat=True).first()


# The alerts of a group kept in the old ticket's record of its fault (a group is bounded by
# what Alertmanager sends; this bounds the event).
RECORDED_MEMBERS = 100


def _keep_record(previous: KnownAlert, recurrence: Ticket, now: datetime) -> None:
    """The fault came back after its ticket closed: write on the closed ticket what the fault
    was under it (its counts, times, labels and group) before its alert moves on, and link
    the new ticket to it as a recurrence."""
    old = Alert.objects.select_related("integration").get(pk=previous.pk)
    members = [
        {"fingerprint": m.fingerprint, "firing": m.firing, "labels": m.labels,
         "starts_at": _iso(m.starts_at), "ends_at": _iso(m.ends_at)}
        for m in GroupedAlert.objects.filter(alert_id=old.pk).order_by("id")[:RECORDED_MEMBERS]
    ]
    tickets.record_event(
        ticket=Ticket(pk=previous.ticket_id), kind=TimelineEvent.Kind.ALERT, actor=None, at=now,
        data={"status": "recurred", "identity": old.identity, "occurrences": old.occurrences,
              "integration": old.integration.name,
              "first_seen": _iso(old.first_seen), "last_seen": _iso(old.last_seen),
              "resolved_at": _iso(old.resolved_at), "labels": old.labels, "members": members,
              "recurrence": recurrence.key},
    )
    tickets.link_recurrence(ticket=recurrence, original_id=previous.ticket_id, at=now)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def note_closed_while_firing(change: TicketChange) -> None:
    """Hook: a monitored fault's ticket closed while its alert still fires says, on its
    timeline, what the next repeat will do: open a new ticket, linked as a recurrence."""
    if change.target not in FINISHED or change.source in FINISHED:
        return
    if change.ticket.source_kind != SourceKind.ALERT:
        return
    firing = list(Alert.objects.filter(ticket_id=change.ticket.pk, firing=True)
                  .values_list("identity", flat=True))
    if not firing:
        return
    tickets.record_event(
        ticket=change.ticket, kind=TimelineEvent.Kind.ALERT, actor=None, at=change.at,
        data={"status": "closed_while_firing", "identities": firing},
    )


def _open_or_find(integration: Integration, notice: AlertNotice,
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


def _ticket_spec(integration: Integration, notice: AlertNotice, now: datetime,
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


def _open_ticket(integration: Integration, notice: AlertNotice,
                 previous: KnownAlert | None, now: datetime,
                 modules: dict[str, Module | None]) -> KnownAlert:
    ticket = tickets.create_ticket(by=None, **_ticket_spec(integration, notice, now, modules))
    alert = _alert_for(integration, notice, ticket, previous, now)
    if alert.pk is None:
        alert.save()
    return KnownAlert.opened(alert, ticket)
