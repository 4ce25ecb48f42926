"""The events opsdesk's Zabbix media type posts (integrations/zabbix/opsdesk_mediatype.yaml)
read into alert notices (``notices``). Pure: no database.

A problem event opens the fault identified by its event id; an update (acknowledged, commented,
severity changed in Zabbix) is noted on its ticket, and an acknowledgement is remembered so that
the recovery leaves the ticket for the engineer instead of closing it (it does not stop the SLA
response clock: only a response in opsdesk does); a recovery resolves it. Severity names map to
priorities (Disaster → urgent, High → high, Average → medium, the rest → low), overridden by
the integration's ``severity_priority`` option. A time outside the range of ``moments`` is
replaced by the arrival time, with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext as _

from opsdesk.intake import moments
from opsdesk.intake.alerts.notices import (
    LONG_TEXT_MAX,
    AlertNotice,
    severity_priorities,
)
from opsdesk.intake.errors import PayloadRejected

DEFAULT_SEVERITY_PRIORITY = {
    "disaster": "urgent", "high": "high", "average": "medium",
    "warning": "low", "information": "low", "not classified": "low",
}
# {EVENT.NSEVERITY}: the severity when an administrator renamed the severities in Zabbix.
SEVERITY_NAMES = ("not classified", "information", "warning", "average", "high", "disaster")
EVENTS = ("problem", "update", "recovery")
LOCAL_TIME_FORMAT = "%Y.%m.%d %H:%M:%S"
# {EVENT.UPDATE.ACTION} lists what a person did, e.g. "acknowledged, commented and changed
# severity from Warning to High" or "unacknowledged" (Zabbix 6.0 and 7.0 write it in English).
ACKNOWLEDGED = re.compile(r"\backnowledged\b")
UNACKNOWLEDGED = re.compile(r"\bunacknowledged\b")


@dataclass(frozen=True)
class ZabbixUpdate:
    """Someone acted on the problem in Zabbix: acknowledged it, commented, changed severity.
    ``acknowledged`` is True for an acknowledgement, False when it was withdrawn, and None
    when the update did neither."""

    identity: str
    user: str
    action: str
    message: str
    severity: str
    at: datetime | None
    acknowledged: bool | None


def acknowledgement(action: str) -> bool | None:
    """What an update's action says of the problem's acknowledgement."""
    if UNACKNOWLEDGED.search(action):
        return False
    return True if ACKNOWLEDGED.search(action) else None


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return str(value).strip() if isinstance(value, str | int | float) else ""


def option_problems(options: dict[str, Any]) -> list[str]:
    """What is wrong with a Zabbix integration's own options."""
    zone = options.get("time_zone", settings.TIME_ZONE)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return [_("time_zone %r is not a time zone such as \"Asia/Shanghai\".") % zone]
    return []


def _time(payload: dict[str, Any], moment: str, zone: ZoneInfo) -> tuple[datetime | None, str]:
    """The moment ("started", "recovered", "update") from its timestamp (``<moment>_at``) or
    else from its local date and time (``<moment>_local``); outside the range intake takes,
    None and a note saying the arrival time stands in."""
    key = f"{moment}_at" if _text(payload, f"{moment}_at") else f"{moment}_local"
    raw = _text(payload, key)
    if not raw:
        return None, ""
    try:
        if key.endswith("_at"):
            value = datetime.fromtimestamp(int(raw), tz=UTC)
        else:
            value = datetime.strptime(raw, LOCAL_TIME_FORMAT).replace(tzinfo=zone)
    except (ValueError, OverflowError, OSError) as error:
        raise PayloadRejected(
            _("%(key)s %(value)r is neither a Unix timestamp nor a Zabbix date and time.")
            % {"key": key, "value": raw}
        ) from error
    if not moments.in_range(value):
        return None, (_("%(key)s %(value)r is outside the years 2000 to 2099; the arrival time "
                        "stands in.") % {"key": key, "value": raw})
    if not moments.happened(value):
        return None, (_("%(key)s %(value)r is in the future; the arrival time stands in.")
                      % {"key": key, "value": raw})
    return value, ""


def _zone(options: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(options.get("time_zone", settings.TIME_ZONE))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(settings.TIME_ZONE)  # an integration saved outside the admin's checks


def _tags(payload: dict[str, Any]) -> dict[str, str]:
    tags = payload.get("tags")
    if not isinstance(tags, list):
        return {}
    return {str(t["tag"]): str(t.get("value", "")) for t in tags
            if isinstance(t, dict) and isinstance(t.get("tag"), str)}


def _priority(payload: dict[str, Any], options: dict[str, Any]) -> tuple[str, str]:
    """The severity as Zabbix names it, and the priority it maps to."""
    severity = _text(payload, "severity")
    table = severity_priorities(options, DEFAULT_SEVERITY_PRIORITY)
    if severity.lower() in table:
        return severity, table[severity.lower()]
    number = _text(payload, "nseverity")
    if number.isascii() and number.isdigit() and int(number) < len(SEVERITY_NAMES):
        return severity or SEVERITY_NAMES[int(number)], table[SEVERITY_NAMES[int(number)]]
    raise PayloadRejected(_("Unknown Zabbix severity %r: map it in the integration's "
                            "severity_priority option.") % severity)


def parse(payload: Any, options: dict[str, Any]) -> AlertNotice | ZabbixUpdate:
    """The event a media type post carries; PayloadRejected names what is wrong with it."""
    if not isinstance(payload, dict):
        raise PayloadRejected(_("The payload is not a JSON object."))
    if not isinstance(options, dict):
        options = {}
    event = payload.get("event")
    if event not in EVENTS:
        raise PayloadRejected(_("Unknown event %(event)r (expected one of: %(known)s).")
                              % {"event": event, "known": ", ".join(EVENTS)})
    identity = _text(payload, "event_id")
    if not identity:
        raise PayloadRejected(_("The payload has no \"event_id\"."))
    if event == "update":
        action = _text(payload, "update_action")
        return ZabbixUpdate(
            identity=identity[:255], user=_text(payload, "update_user"), action=action,
            message=_text(payload, "update_message"), severity=_text(payload, "severity"),
            at=_time(payload, "update", _zone(options))[0],
            acknowledged=acknowledgement(action),
        )
    name = _text(payload, "name")
    if event == "problem" and not name:
        raise PayloadRejected(_("The problem event has no \"name\"."))
    severity, priority = _priority(payload, options) if event == "problem" else ("", "low")
    return _notice(payload, identity, name, severity, priority, firing=event == "problem",
                   zone=_zone(options))


def _notice(payload: dict[str, Any], identity: str, name: str, severity: str, priority: str,
            *, firing: bool, zone: ZoneInfo) -> AlertNotice:
    host_name, host_ip = _text(payload, "host"), _text(payload, "host_ip")
    opdata = _text(payload, "opdata")
    tags = _tags(payload)
    labels = {"event_id": identity, "severity": severity, "host": host_name,
              "host_ip": host_ip, "trigger_id": _text(payload, "trigger_id"),
              **{f"tag:{k}": v for k, v in tags.items()}}
    title = f"[{severity or 'Zabbix'}] {name}" + (f" @ {host_name}" if host_name else "")
    starts_at, starts_note = _time(payload, "started", zone)
    ends_at, ends_note = _time(payload, "recovered", zone)
    return AlertNotice(
        identity=identity[:255],
        firing=firing,
        labels={k: v for k, v in labels.items() if v},
        title=title[:200],
        host=(host_ip or host_name)[:255],
        rule=(_text(payload, "trigger_name") or name)[:255],
        level=severity[:50],
        priority=priority,
        symptom=(f"{name}: {opdata}" if opdata else name)[:LONG_TEXT_MAX],
        description=(_text(payload, "description") or _text(payload, "message"))[:LONG_TEXT_MAX],
        module=tags.get("module", "") or tags.get("service", ""),
        starts_at=starts_at,
        ends_at=ends_at,
        notes=tuple(note for note in (starts_note, ends_note) if note),
        # {EVENT.ACK.STATUS}: an acknowledgement whose update this integration never heard of
        # (an action without an update operation) still keeps the ticket from closing itself.
        acknowledged=_text(payload, "acknowledged").lower() == "yes",
    )
