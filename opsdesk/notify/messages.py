"""What each notification says: a subject and an opening sentence per kind, then the ticket's
particulars, rendered in the reader's language with times in the reader's time zone.

The texts are gettext strings with named placeholders, so translators see whole sentences.
A placeholder the caller did not supply renders as a dash rather than failing: a notification
with a missing detail is better than none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsdesk.notify import conf
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.tickets.models import Ticket

EMPTY = "—"


@dataclass(frozen=True)
class Template:
    subject: Promise
    lead: Promise


TEMPLATES: dict[str, Template] = {
    K.SLA_WARNING: Template(
        _("[%(key)s] SLA at risk: %(title)s"),
        _("The %(clock)s deadline of %(key)s is near: it falls due at %(due_at)s."),
    ),
    K.SLA_BREACH: Template(
        _("[%(key)s] SLA breached: %(title)s"),
        _("%(key)s has missed its %(clock)s deadline of %(due_at)s."),
    ),
    K.ESCALATED: Template(
        _("[%(key)s] Escalated: %(title)s"),
        _("%(key)s has been escalated. Reason: %(reason)s"),
    ),
    K.ASSIGNED: Template(
        _("[%(key)s] Assigned to %(assignee)s: %(title)s"),
        _("%(key)s has been assigned to %(assignee)s."),
    ),
    K.TRIAGE_NEEDED: Template(
        _("[%(key)s] New ticket to triage: %(title)s"),
        _("%(key)s is new and no routing rule assigned it: please set its priority and assignee."),
    ),
    K.APPROVAL_REQUESTED: Template(
        _("[%(key)s] Approval requested: %(title)s"),
        _("The plan for %(key)s needs the department head's approval before it is carried out."),
    ),
    K.EMERGENCY: Template(
        _("[%(key)s] EMERGENCY: %(title)s"),
        _("An emergency has been declared on %(key)s. %(reason)s"),
    ),
    K.STATUS_UPDATE: Template(
        _("[%(key)s] Status update: %(title)s"),
        _("Update on %(key)s: %(message)s"),
    ),
    K.INSPECTION_OVERDUE: Template(
        _("Inspection overdue: %(plan)s"),
        _("The inspection %(plan)s was due at %(due_at)s and has not been run."),
    ),
}
# A breach past +100% of the target (the SLA app's "severe" threshold) reads differently.
SEVERE_BREACH_LEAD = _("%(key)s is more than 100%% past its %(clock)s deadline of %(due_at)s.")
CLOCKS = {"response": _("response"), "resolution": _("resolution")}
DETAILS = (
    ("key", _("Ticket: %(key)s %(title)s")),
    ("key", _("Priority: %(priority)s")),
    ("key", _("Status: %(status)s")),
    ("key", _("Assignee: %(assignee)s")),
    ("deadline", _("Deadline: %(deadline)s")),
    ("declared_by", _("Declared by: %(declared_by)s")),
    ("next_update_at", _("Next update by: %(next_update_at)s")),
    ("link", _("Open: %(link)s")),
)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    language: str


class _Values(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return EMPTY


def reader_language(language: str | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def reader_zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def format_moment(moment: datetime, zone: tzinfo) -> str:
    """A moment as the reader's wall clock, naming the zone so nobody converts in their head."""
    return f"{timezone.localtime(moment, zone):%Y-%m-%d %H:%M} {zone}"


def ticket_link(ticket: Ticket) -> str:
    return f"{conf.base_url()}/tickets/{ticket.key}/"


def _text(value: Any, zone: tzinfo) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        return format_moment(value, zone)
    if isinstance(value, enum.Enum) and hasattr(value, "label"):
        return str(value.label)
    return str(value)  # also evaluates lazy translations in the active language


def _values(ticket: Ticket | None, context: dict[str, Any], zone: tzinfo) -> _Values:
    values = _Values({name: _text(value, zone) for name, value in context.items()})
    if clock := context.get("clock"):
        values["clock"] = str(CLOCKS.get(str(clock), clock))
    if ticket is not None:
        values.update(
            key=ticket.key, title=ticket.title, link=ticket_link(ticket),
            priority=str(ticket.get_priority_display()),
            status=str(ticket.get_status_display()),
            assignee=str(ticket.assignee) if ticket.assignee else str(_("nobody yet")),
        )
        if ticket.deadline_at:
            values["deadline"] = format_moment(ticket.deadline_at, zone)
    return values


def render(
    *, kind: str, ticket: Ticket | None, context: dict[str, Any], language: str | None,
    time_zone: str | None,
) -> Message:
    """The notification ``kind`` about ``ticket`` as one reader should read it."""
    language = reader_language(language)
    zone = reader_zone(time_zone)
    template = TEMPLATES[kind]
    with translation.override(language):
        values = _values(ticket, context, zone)
        lead = template.lead
        if kind == K.SLA_BREACH and context.get("threshold") == "severe":
            lead = SEVERE_BREACH_LEAD
        lines = [str(lead) % values]
        details = [str(line) % values for needs, line in DETAILS if needs in values]
        if details:
            lines += ["", *details]
        # A header cannot hold a line break; a title pasted with one must not break the mail.
        subject = " ".join((str(template.subject) % values).split())
        return Message(subject=subject[:300], body="\n".join(lines), language=language)
