"""Alertmanager's webhook payload (version 4) read into alerts opsdesk can register.

Pure: no database. Labels map to the registration fields of the procedure: instance → source
host, alertname → rule, severity → alert level → priority; annotations summary/description →
symptom and description.

A fault is identified by the alert's fingerprint, or (option ``dedupe_by: group_key``) by the
notification's group key: then one notification is one occurrence of one fault, firing until
Alertmanager says the whole group resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opsdesk.intake.errors import PayloadRejected

# Severity label → priority; an integration's options.severity_priority overrides entries.
DEFAULT_SEVERITY_PRIORITY = {
    "critical": "urgent", "disaster": "urgent", "page": "urgent", "emergency": "urgent",
    "error": "high", "high": "high", "major": "high",
    "warning": "medium", "average": "medium", "minor": "medium",
    "info": "low", "information": "low", "none": "low",
}
PRIORITIES = ("urgent", "high", "medium", "low")
DEFAULT_PRIORITY = "medium"
DEDUPE_BY = ("fingerprint", "group_key")
HOST_PORT = re.compile(r"^(?P<host>\[[^\]]+\]|[^:]+):\d+$")


@dataclass(frozen=True)
class AlertNotice:
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


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or raw.startswith("0001-01-01"):
        return None  # Alertmanager's zero time: "not ended"
    try:
        return parse_datetime(raw)
    except ValueError:
        return None  # well-formed but impossible (month 13): the arrival time stands in


def _host(instance: str) -> str:
    match = HOST_PORT.match(instance)
    return match.group("host").strip("[]") if match else instance


def severity_priorities(options: dict[str, Any]) -> dict[str, str]:
    """The severity → priority table of an integration: the defaults and its overrides."""
    overrides = options.get("severity_priority")
    table = dict(DEFAULT_SEVERITY_PRIORITY)
    if isinstance(overrides, dict):
        table.update({str(k).lower(): str(v) for k, v in overrides.items() if v in PRIORITIES})
    return table


def _strings(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def parse(payload: Any, options: dict[str, Any]) -> list[AlertNotice]:
    """The alerts of one notification; PayloadRejected names what is wrong with it."""
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
    severities = severity_priorities(options)
    common = _strings(payload.get("commonLabels"))
    by_group = options.get("dedupe_by") == "group_key"
    notices = [_notice(i, alert, common, severities, need_fingerprint=not by_group)
               for i, alert in enumerate(alerts)]
    return _group_notice(payload, notices) if by_group else notices


def _group_notice(payload: dict[str, Any], notices: list[AlertNotice]) -> list[AlertNotice]:
    """The notification as one occurrence of one fault, its group: registered from its first
    firing alert, firing while any alert of the group fires."""
    group_key = payload.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        raise PayloadRejected(_("The payload has no \"groupKey\"."))
    if not notices:
        return []
    firing = [n for n in notices if n.firing]
    first = (firing or notices)[0]
    starts = [n.starts_at for n in notices if n.starts_at is not None]
    return [AlertNotice(
        identity=group_key[:255], firing=bool(firing), labels=first.labels, title=first.title,
        host=first.host, rule=first.rule, level=first.level, priority=first.priority,
        symptom=first.symptom, description=first.description, module=first.module,
        starts_at=min(starts) if starts else None,
        ends_at=None if firing else first.ends_at,
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
    return AlertNotice(
        identity=fingerprint[:255],
        firing=status == "firing",
        labels=labels,
        title=title[:200],
        host=host[:255],
        rule=rule[:255],
        level=level[:50],
        priority=severities.get(level.lower(), DEFAULT_PRIORITY),
        symptom=summary or annotations.get("description", ""),
        description=annotations.get("description", ""),
        module=labels.get("module", "") or labels.get("service", ""),
        starts_at=_time(alert.get("startsAt")),
        ends_at=_time(alert.get("endsAt")),
    )
