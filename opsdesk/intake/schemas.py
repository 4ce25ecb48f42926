"""What the intake API answers about the alerts of a ticket."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema

from opsdesk.intake.models import Alert


class GroupedAlertOut(Schema):
    """One alert of a group tracked as one fault, as its latest notification described it."""

    fingerprint: str
    status: str
    labels: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    first_seen: datetime
    last_seen: datetime


class AlertOut(Schema):
    """A fault the ticket tracks, as its monitoring system identifies it."""

    integration: str
    kind: str
    identity: str
    status: str
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    labels: dict[str, str]
    acknowledged_at: datetime | None
    acknowledged_by: str
    members: list[GroupedAlertOut]

    @staticmethod
    def of(alert: Alert) -> AlertOut:
        return AlertOut(
            integration=alert.integration.name, kind=alert.integration.kind,
            identity=alert.identity, status="firing" if alert.firing else "resolved",
            occurrences=alert.occurrences, first_seen=alert.first_seen,
            last_seen=alert.last_seen, resolved_at=alert.resolved_at, labels=alert.labels,
            acknowledged_at=alert.acknowledged_at, acknowledged_by=alert.acknowledged_by,
            members=[GroupedAlertOut(
                fingerprint=m.fingerprint, status="firing" if m.firing else "resolved",
                labels=m.labels, starts_at=m.starts_at, ends_at=m.ends_at,
                first_seen=m.first_seen, last_seen=m.last_seen,
            ) for m in alert.members.all()],
        )
