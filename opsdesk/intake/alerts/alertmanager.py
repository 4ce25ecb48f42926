"""Alertmanager's webhook payload (version 4) read into alert notices (``notices``).

Pure: no database. Labels map to the registration fields of the procedure: instance → source
host, alertname → rule, severity → alert level → priority; annotations summary/description →
symptom and description.

A fault is identified by the alert's fingerprint, or (option ``dedupe_by: group_key``) by the
notification's group key: then one notification is one occurrence of one fault, firing until
Alertmanager says the whole group resolved, as severe as its most severe firing alert, and
every alert of the group is kept with it.

One bad alert never costs its group: an alert that cannot be used is refused on its own, with
its reason, and the others are taken; only a notification none of whose alerts can be used is
refused as a whole. A time that cannot be used (unreadable, or outside the range of
``moments``) does not refuse its alert: the arrival time stands in, and a note says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opsdesk.intake import moments
from opsdesk.intake.alerts.notices import (
    LONG_TEXT_MAX,
    PRIORITIES,
    AlertNotice,
    GroupMember,
    severity_priorities,
)
from opsdesk.intake.errors import PayloadRejected

# Severity label → priority; an integration's options.severity_priority overrides entries.
DEFAULT_SEVERITY_PRIORITY = {
    "critical": "urgent", "disaster": "urgent", "page": "urgent", "emergency": "urgent",
    "error": "high", "high": "high", "major": "high",
    "warning": "medium", "average": "medium", "minor": "medium",
    "info": "low", "information": "low", "none": "low",
}
DEFAULT_PRIORITY = "medium"
DEDUPE_BY = ("fingerprint", "group_key")
HOST_PORT = re.compile(r"^(?P<host>\[[^\]]+\]|[^:]+):\d+$")
# How many refused alerts a whole refusal names (the stored payload keeps them all).
REFUSALS_NAMED = 5


@dataclass(frozen=True)
class Refusal:
    """An alert of a notification that cannot be used: its place in the list and why."""

    index: int
    reason: str


@dataclass(frozen=True)
class Notification:
    """What one notification reports: its usable alerts, those refused, and how many alerts
    Alertmanager left out of it (its ``max_alerts``)."""

    notices: list[AlertNotice]
    refused: list[Refusal]
    truncated: int


def _time(raw: Any, name: str, index: int, *, past: bool) -> tuple[datetime | None, str]:
    """The moment (``past``: one that has happened), or None and a note saying the arrival
    time stands in."""
    if raw is None or raw == "" or (isinstance(raw, str) and raw.startswith("0001-01-01")):
        return None, ""  # Alertmanager's zero time: "not ended"
    try:
        moment = parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None  # well-formed but impossible (month 13)
    names = {"index": index, "name": name, "value": raw}
    if moment is None:
        return None, (_("Alert %(index)d: %(name)s %(value)r is not a date and time; the "
                        "arrival time stands in.") % names)
    if not moments.in_range(moment):
        return None, (_("Alert %(index)d: %(name)s %(value)r is outside the years 2000 to "
                        "2099; the arrival time stands in.") % names)
    if past and not moments.happened(moment):
        return None, (_("Alert %(index)d: %(name)s %(value)r is in the future; the arrival "
                        "time stands in.") % names)
    return moments.aware(moment), ""


def _host(instance: str) -> str:
    match = HOST_PORT.match(instance)
    return match.group("host").strip("[]") if match else instance


def _strings(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def label_fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (FNV-1a 64 over the sorted labels), for an
    alert whose notification left it out."""
    digest = 0xCBF29CE484222325
    for name in sorted(labels):
        for byte in name.encode() + b"\xff" + labels[name].encode() + b"\xff":
            digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def parse(payload: Any, options: dict[str, Any], *, only: frozenset[int] | None = None
          ) -> Notification:
    """The alerts of one notification (those at the positions ``only`` names, when given: a
    replay of the refused ones). PayloadRejected names what is wrong with the notification as
    a whole, or with every one of its alerts."""
    if not isinstance(payload, dict):
        raise PayloadRejected(_("The payload is not a JSON object."))
    if str(payload.get("version")) != "4":
        raise PayloadRejected(
            _("Unsupported Alertmanager payload version %r (expected \"4\").")
            % payload.get("version")
        )
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadRejected(_("The payload has no \"alerts\" list."))
    if not isinstance(options, dict):
        options = {}  # an integration saved outside the admin's checks
    by_group = options.get("dedupe_by") == "group_key"
    group_key = payload.get("groupKey")
    if by_group and (not isinstance(group_key, str) or not group_key):
        raise PayloadRejected(_("The payload has no \"groupKey\"."))
    severities = severity_priorities(options, DEFAULT_SEVERITY_PRIORITY)
    common = _strings(payload.get("commonLabels"))
    notices: list[AlertNotice] = []
    refused: list[Refusal] = []
    for index, alert in enumerate(alerts):
        if only is not None and index not in only:
            continue
        try:
            notices.append(_notice(index, alert, common, severities, need_fingerprint=not by_group))
        except PayloadRejected as problem:
            refused.append(Refusal(index, problem.message))
    if refused and not notices:
        named = " ".join(r.reason for r in refused[:REFUSALS_NAMED])
        more = len(refused) - REFUSALS_NAMED
        raise PayloadRejected(named + (" " + _("(and %d more)") % more if more > 0 else ""))
    if by_group:
        notices = _group_notice(str(group_key), notices)
    return Notification(notices, refused, _count(payload.get("truncatedAlerts")))


def _count(raw: Any) -> int:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else 0


def _group_notice(group_key: str, notices: list[AlertNotice]) -> list[AlertNotice]:
    """The notification as one occurrence of one fault, its group: registered from its first
    firing alert, firing while any alert of the group fires, as urgent as the most severe of
    those, with every alert of the group as a member."""
    if not notices:
        return []
    firing = [n for n in notices if n.firing]
    first = (firing or notices)[0]
    worst = min(firing or notices, key=lambda n: PRIORITIES.index(n.priority))
    starts = [n.starts_at for n in notices if n.starts_at is not None]
    members = tuple(
        GroupMember(fingerprint=n.identity or label_fingerprint(n.labels), firing=n.firing,
                    labels=n.labels, starts_at=n.starts_at, ends_at=n.ends_at)
        for n in notices
    )
    return [AlertNotice(
        identity=group_key[:255], firing=bool(firing), labels=first.labels, title=first.title,
        host=first.host, rule=first.rule, level=worst.level, priority=worst.priority,
        symptom=first.symptom, description=first.description, module=first.module,
        starts_at=min(starts) if starts else None,
        ends_at=None if firing else first.ends_at,
        notes=tuple(note for n in notices for note in n.notes), members=members,
    )]


def _notice(index: int, alert: Any, common: dict[str, str], severities: dict[str, str], *,
            need_fingerprint: bool) -> AlertNotice:
    if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
        raise PayloadRejected(_("Alert %d has no labels.") % index)
    labels = {**common, **_strings(alert["labels"])}
    annotations = _strings(alert.get("annotations"))
    fingerprint = alert.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        if need_fingerprint:
            raise PayloadRejected(_("Alert %d has no fingerprint.") % index)
        fingerprint = ""
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadRejected(_("Alert %(index)d has status %(status)r.")
                              % {"index": index, "status": status})
    rule = labels.get("alertname", "")
    host = _host(labels.get("instance", "") or labels.get("host", ""))
    level = labels.get("severity", "")
    summary = annotations.get("summary", "") or annotations.get("message", "")
    title = f"[{rule or _('alert')}] {summary or rule}" + (f" @ {host}" if host else "")
    firing = status == "firing"
    starts_at, starts_note = _time(alert.get("startsAt"), "startsAt", index, past=True)
    # A firing alert's endsAt is when Alertmanager will consider it resolved unless it hears
    # again: ahead of now, and not used.
    ends_at, ends_note = (None, "") if firing else _time(alert.get("endsAt"), "endsAt", index,
                                                         past=True)
    return AlertNotice(
        identity=fingerprint[:255],
        firing=firing,
        labels=labels,
        title=title[:200],
        host=host[:255],
        rule=rule[:255],
        level=level[:50],
        priority=severities.get(level.lower(), DEFAULT_PRIORITY),
        symptom=(summary or annotations.get("description", ""))[:LONG_TEXT_MAX],
        description=annotations.get("description", "")[:LONG_TEXT_MAX],
        module=labels.get("module", "") or labels.get("service", ""),
        starts_at=starts_at,
        ends_at=ends_at,
        notes=tuple(note for note in (starts_note, ends_note) if note),
    )
