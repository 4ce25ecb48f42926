"""A generic webhook's payload read through its source's mapping (data in the integration's
options): which of their JSON fields, by dotted path, give ours; constants; value maps; where
the idempotency key is. Pure: no database.

A mapping looks like::

    {"fields": {"title": "ticket.subject", "submitter_name": "requester.name",
                "priority": "ticket.priority", "external_id": "ticket.id"},
     "constants": {"submitter_department": "客服中心"},
     "value_maps": {"priority": {"P1": "urgent", "P2": "high", "P3": "medium"}},
     "idempotency_key": "event.id",
     "signature_header": "X-Signature",
     "channel": "ticket_platform"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opsdesk.intake import moments
from opsdesk.intake.errors import PayloadRejected
from opsdesk.tickets.choices import Channel, Impact, Urgency

# Our fields a source can fill; the text ones go to the ticket as they are.
TEXT_TARGETS = (
    "title", "description", "submitter_name", "submitter_department", "submitter_contact",
    "steps_to_reproduce", "error_message", "impact_scope", "module", "external_id",
)
CHOICE_TARGETS: dict[str, tuple[str, ...]] = {
    "priority": ("urgent", "high", "medium", "low"),
    "impact": tuple(Impact.values),
    "urgency": tuple(Urgency.values),
}
TARGETS = (*TEXT_TARGETS, *CHOICE_TARGETS, "occurred_at")
CHANNELS = (Channel.CUSTOMER_SERVICE.value, Channel.TICKET_PLATFORM.value)
OPTION_KEYS = ("fields", "constants", "value_maps", "idempotency_key", "signature_header",
               "channel")
DOTTED_PATH = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
MAX_LENGTHS = {"title": 200, "submitter_name": 100, "submitter_department": 100,
               "submitter_contact": 200, "external_id": 255}


@dataclass(frozen=True)
class Report:
    """What a source reported, in our words, and the key that makes a repeat the same report."""

    idempotency_key: str
    external_id: str
    channel: str
    fields: dict[str, Any]  # create_ticket's keyword arguments, except the module
    module: str


def _dict(options: dict[str, Any], key: str) -> dict[str, Any]:
    value = options.get(key, {})
    return value if isinstance(value, dict) else {}


def mapping_problems(options: dict[str, Any]) -> list[str]:
    """What is wrong with a webhook mapping, each problem a sentence naming the key."""
    problems = [_("Unknown option %(key)r; the options are: %(known)s.")
                % {"key": key, "known": ", ".join(OPTION_KEYS)}
                for key in options if key not in OPTION_KEYS]
    for key in ("fields", "constants", "value_maps"):
        if not isinstance(options.get(key, {}), dict):
            problems.append(_("%s must be a JSON object.") % key)
    fields, constants = _dict(options, "fields"), _dict(options, "constants")
    value_maps = _dict(options, "value_maps")
    for key, table in (("fields", fields), ("constants", constants), ("value_maps", value_maps)):
        problems += [_("%(key)s: %(name)r is not one of our fields: %(targets)s.")
                     % {"key": key, "name": name, "targets": ", ".join(TARGETS)}
                     for name in table if name not in TARGETS]
    problems += [_("fields.%s must be a dotted path such as \"ticket.subject\".") % name
                 for name, path in fields.items()
                 if not isinstance(path, str) or not DOTTED_PATH.match(path)]
    problems += [_("constants.%s must be a string.") % name
                 for name, value in constants.items() if not isinstance(value, str)]
    if "title" not in fields and not constants.get("title"):
        problems.append(str(_("The title must come from somewhere: map it in fields.")))
    for name, table in value_maps.items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            problems.append(_("value_maps.%s must map their values to strings.") % name)
    for name, allowed in CHOICE_TARGETS.items():
        given = [constants.get(name), *_dict(value_maps, name).values()]
        problems += [_("%(name)s %(value)r is not one of: %(allowed)s.")
                     % {"name": name, "value": value, "allowed": ", ".join(allowed)}
                     for value in given if value is not None and value not in allowed]
    key_path = options.get("idempotency_key")
    if key_path is not None and (not isinstance(key_path, str)
                                 or not DOTTED_PATH.match(key_path)):
        problems.append(str(_("idempotency_key must be a dotted path such as \"event.id\".")))
    header = options.get("signature_header")
    if header is not None and (not isinstance(header, str) or not HEADER_NAME.match(header)):
        problems.append(str(_("signature_header must be an HTTP header name such as "
                              "\"X-Signature\".")))
    if options.get("channel", CHANNELS[0]) not in CHANNELS:
        problems.append(_("channel must be one of: %s.") % ", ".join(CHANNELS))
    return problems


def _at(payload: Any, path: str) -> Any:
    """The value at a dotted path (a number steps into a list), or None."""
    value = payload
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isascii() and step.isdigit() \
                and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _text(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise PayloadRejected(_("%r holds an object or a list, not a value.") % path)


def _occurred_at(raw: str, origin: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = (datetime.fromtimestamp(float(raw), tz=UTC)
                  if re.fullmatch(r"\d+(\.\d+)?", raw) else parse_datetime(raw))
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise PayloadRejected(_("occurred_at %(value)r (from %(origin)s) is not a date and time.")
                              % {"value": raw, "origin": origin})
    # One report, not a group: the source is told, fixes its mapping or data, and resends.
    if not moments.in_range(moment):
        raise PayloadRejected(_("occurred_at %(value)r (from %(origin)s) is outside the years "
                                "2000 to 2099.") % {"value": raw, "origin": origin})
    if not moments.happened(moment):
        raise PayloadRejected(_("occurred_at %(value)r (from %(origin)s) is in the future.")
                              % {"value": raw, "origin": origin})
    return moments.aware(moment)


def read(payload: Any, options: dict[str, Any], *, idempotency_header: str = "") -> Report:
    """The report a payload makes under ``options``; PayloadRejected names what is missing or
    what the mapping cannot translate."""
    if not isinstance(payload, dict):
        raise PayloadRejected(_("The payload is not a JSON object."))
    fields, constants = _dict(options, "fields"), _dict(options, "constants")
    value_maps = _dict(options, "value_maps")
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name in TARGETS:
        path = fields.get(name)
        raw = _text(_at(payload, path), path) if isinstance(path, str) else ""
        origins[name] = repr(path) if raw else "constants"
        value = raw or str(constants.get(name, ""))
        table = _dict(value_maps, name)
        values[name] = str(table.get(value, value))
    if not values["title"]:
        raise PayloadRejected(_("The payload has no %r (mapped to the title).")
                              % fields.get("title"))
    for name, allowed in CHOICE_TARGETS.items():
        value = values[name]
        if value and value not in allowed:
            raise PayloadRejected(
                _("%(name)s %(value)r (from %(origin)s) is not one of: %(allowed)s; add it to "
                  "value_maps.%(name)s.")
                % {"name": name, "value": value, "origin": origins[name],
                   "allowed": ", ".join(allowed)}
            )
    return Report(
        idempotency_key=_idempotency_key(payload, options, idempotency_header, values),
        external_id=values["external_id"][:255],
        channel=str(options.get("channel", CHANNELS[0])),
        fields=_ticket_fields(values, origins),
        module=values["module"],
    )


def _idempotency_key(payload: dict[str, Any], options: dict[str, Any], header: str,
                     values: dict[str, str]) -> str:
    path = options.get("idempotency_key")
    if isinstance(path, str):
        key = _text(_at(payload, path), path)
        if not key:
            raise PayloadRejected(_("The payload has no %r (the idempotency key).") % path)
        return key[:255]
    key = header.strip() or values["external_id"]
    if not key:
        raise PayloadRejected(_("No idempotency key: send an Idempotency-Key header, or map "
                                "idempotency_key or external_id to a field of the payload."))
    return key[:255]


def _ticket_fields(values: dict[str, str], origins: dict[str, str]) -> dict[str, Any]:
    text = {name: values[name][:MAX_LENGTHS.get(name, 100_000)]
            for name in TEXT_TARGETS if name not in ("module", "external_id") and values[name]}
    return {
        **text,
        "impact": values["impact"], "urgency": values["urgency"],
        "priority": values["priority"] or None,
        "occurred_at": _occurred_at(values["occurred_at"], origins["occurred_at"]),
    }
