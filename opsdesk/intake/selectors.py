"""Reads of intake: the alerts a ticket tracks, shaped for its page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from opsdesk.intake.models import Alert
from opsdesk.tickets.models import Ticket, TimelineEvent


def alerts_of(*, ticket: Ticket) -> QuerySet[Alert]:
    """The alerts ``ticket`` tracks, oldest first, each with its integration and the alerts of
    its group (``dedupe_by: group_key``): two queries, however many there are."""
    return (Alert.objects.filter(ticket=ticket).select_related("integration")
            .prefetch_related("members").order_by("pk"))


@dataclass(frozen=True)
class RecordedMember:
    firing: bool
    labels: dict[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True)
class RecordedAlert:
    """A fault as it was under a ticket it has since left: it fired again after the ticket
    closed, and its alert now tracks the recurrence (``recurrence``, a ticket key)."""

    integration: str
    identity: str
    occurrences: int
    first_seen: datetime | None
    last_seen: datetime | None
    resolved_at: datetime | None
    labels: dict[str, Any]
    members: list[RecordedMember]
    recurrence: str


def recorded_alerts_of(*, ticket: Ticket) -> list[RecordedAlert]:
    """The faults ``ticket`` tracked before they fired again as a new ticket, from the record
    each left on its timeline when it moved on (oldest first), so that the closed ticket's page
    still shows what it was about."""
    events = TimelineEvent.objects.filter(
        ticket=ticket, kind=TimelineEvent.Kind.ALERT, data__status="recurred"
    ).order_by("pk")
    return [_recorded(event.data) for event in events]


def _recorded(data: dict[str, Any]) -> RecordedAlert:
    return RecordedAlert(
        integration=str(data.get("integration") or ""), identity=str(data.get("identity") or ""),
        occurrences=int(data.get("occurrences") or 0), first_seen=_moment(data.get("first_seen")),
        last_seen=_moment(data.get("last_seen")), resolved_at=_moment(data.get("resolved_at")),
        labels=data.get("labels") or {}, recurrence=str(data.get("recurrence") or ""),
        members=[RecordedMember(firing=bool(m.get("firing")), labels=m.get("labels") or {},
                                starts_at=_moment(m.get("starts_at")),
                                ends_at=_moment(m.get("ends_at")))
                 for m in data.get("members") or []],
    )


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # a record is shown whatever it holds
        return None
