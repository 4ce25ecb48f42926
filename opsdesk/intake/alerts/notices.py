"""What every monitoring source's payload is read into, whatever its format: one notice per
fault it reports, with the fields the procedure registers for an alert. Pure: no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PRIORITIES = ("urgent", "high", "medium", "low")  # most urgent first
# Priority → the impact and urgency that give it in the default matrix (alerts carry no
# human judgement of either; the severity label decides).
IMPACT_URGENCY = {
    "urgent": ("all_users", "immediate"),
    "high": ("some_users", "high"),
    "medium": ("few_users", "normal"),
    "low": ("none", "low"),
}
# The longest description or symptom a ticket takes (the tickets service refuses more): an
# annotation beyond it is cut, not a reason to lose the alert.
LONG_TEXT_MAX = 100_000


@dataclass(frozen=True)
class GroupMember:
    """One alert of a group notified as one fault (``dedupe_by: group_key``)."""

    fingerprint: str
    firing: bool
    labels: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True)
class AlertNotice:
    """One fault as a notification reports it: ``identity`` is how its source names it (an
    Alertmanager fingerprint or group key, a Zabbix event id), the same in every repeat."""

    identity: str
    firing: bool
    labels: dict[str, str]
    title: str
    host: str
    rule: str
    level: str
    priority: str
    symptom: str
    description: str
    module: str
    starts_at: datetime | None
    ends_at: datetime | None
    # What was made of a part that could not be used (a time the arrival time stands in for).
    notes: tuple[str, ...] = ()
    # A person acknowledged the fault in the monitoring system (Zabbix).
    acknowledged: bool = False
    members: tuple[GroupMember, ...] = ()


def severity_priorities(options: dict[str, Any], defaults: Mapping[str, str]) -> dict[str, str]:
    """An integration's severity → priority table: the source's ``defaults`` and the
    integration's overrides (``options["severity_priority"]``; unknown priorities ignored)."""
    overrides = options.get("severity_priority")
    table = dict(defaults)
    if isinstance(overrides, dict):
        table.update({str(k).lower(): str(v) for k, v in overrides.items() if v in PRIORITIES})
    return table
