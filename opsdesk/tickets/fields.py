"""The fields a workflow action can ask for: what each is, where it is stored, how it is parsed.

The workflow table names these; the service parses the caller's input with them and the
API, UI and docs describe them from here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk.accounts import selectors as accounts
from opsdesk.accounts.models import ProblemType
from opsdesk.accounts.roles import ASSIGNABLE_ROLES
from opsdesk.bounds import MomentOutOfRange, check_moment, check_past_moment
from opsdesk.tickets.choices import Impact, PlanKind, Priority, Urgency
from opsdesk.tickets.errors import InvalidField, NotFound
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import ticket_id_from_key


class Kind(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MINUTES = "minutes"
    DATETIME = "datetime"
    USER = "user"
    MODULE = "module"
    BOOLEAN = "boolean"
    TICKET = "ticket"  # another ticket, by its key


class Target(enum.StrEnum):
    TICKET = "ticket"  # stored on the ticket
    PLAN = "plan"  # stored on the new plan version the action creates
    EVENT = "event"  # stored only on the timeline event (a reason, a comment)


@dataclass(frozen=True)
class Field:
    name: str
    label: Promise
    kind: Kind
    target: Target
    choices: tuple[tuple[str, Promise], ...] = ()
    max_length: int | None = None  # the column's, for text stored in a bounded column
    past: bool = False  # a moment something happened: not in the future
    future: bool = False  # a moment something is expected: not already past

    def parse(self, raw: Any) -> Any:
        """Turn the caller's value into the stored value, or raise InvalidField naming the field."""
        if raw is None or raw == "":
            return None
        parser = _PARSERS[self.kind]
        try:
            return parser(self, raw)
        except InvalidField:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            shown = raw[:40] + "…" if isinstance(raw, str) and len(raw) > 40 else raw
            raise InvalidField(
                _("%(field)s: %(value)r is not a valid value.")
                % {"field": self.label, "value": shown},
                field=self.name,
            ) from exc

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": str(self.label), "kind": self.kind}
        if self.choices:
            out["choices"] = [{"value": v, "label": str(label)} for v, label in self.choices]
        return out


# Long text (a description, a pasted log) is bounded too, at what a page can still show.
LONG_TEXT_MAX = 100_000


def _text(field: Field, raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError
    limit = field.max_length or LONG_TEXT_MAX
    if len(raw.strip()) > limit:
        raise InvalidField(
            _("%(field)s may have at most %(limit)d characters (it has %(length)d).")
            % {"field": field.label, "limit": limit, "length": len(raw.strip())},
            field=field.name, limit=limit,
        )
    return raw.strip()


def _choice(field: Field, raw: Any) -> Any:
    values = [value for value, _label in field.choices]
    if raw not in values:
        raise InvalidField(
            _("%(field)s must be one of: %(values)s.")
            % {"field": field.label, "values": ", ".join(values)},
            field=field.name,
        )
    return Priority.from_code(raw) if field.name == "priority" else raw


# The largest value a PositiveIntegerField holds on every database.
MAX_MINUTES = 2_147_483_647


def _minutes(field: Field, raw: Any) -> int:
    if isinstance(raw, bool):
        raise TypeError
    value = int(raw)
    if not 0 <= value <= MAX_MINUTES:
        raise ValueError
    return value


def _datetime(field: Field, raw: Any) -> datetime:
    value = raw if isinstance(raw, datetime) else parse_datetime(str(raw))
    if value is None:
        raise ValueError
    try:
        value = check_past_moment(value) if field.past else check_moment(value)
    except MomentOutOfRange as refusal:
        raise InvalidField(f"{field.label}: {refusal}", field=field.name) from refusal
    if field.future and value <= timezone.now():
        raise InvalidField(_("%(field)s must be in the future.") % {"field": field.label},
                           field=field.name)
    return value


def _user(field: Field, raw: Any) -> Any:
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise TypeError
    user = accounts.get_user_by_ref(raw)
    if user is None or not user.is_active:
        raise InvalidField(
            _("%(field)s: no active user %(value)r.") % {"field": field.label, "value": raw},
            field=field.name,
        )
    if field.name == "assignee" and not user.has_role(*ASSIGNABLE_ROLES):
        raise InvalidField(
            _("%(user)s cannot be the assignee: only module owners and support engineers can.")
            % {"user": user},
            field=field.name,
        )
    return user


def _module(field: Field, raw: Any) -> Any:
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise TypeError
    module = accounts.get_module_by_ref(raw)
    if module is None:
        raise InvalidField(
            _("%(field)s: no module %(value)r.") % {"field": field.label, "value": raw},
            field=field.name,
        )
    return module


def _ticket(field: Field, raw: Any) -> str:
    """The key of an existing ticket ("OPS-12", or 12); kept as its key, for the timeline."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise TypeError
    try:
        ticket_id = ticket_id_from_key(str(raw).strip())
    except NotFound:
        ticket_id = None
    if ticket_id is None or not Ticket.objects.filter(pk=ticket_id).exists():
        raise InvalidField(
            _("%(field)s: no ticket %(value)r.") % {"field": field.label, "value": raw},
            field=field.name,
        )
    return Ticket.key_of(ticket_id)


def _boolean(field: Field, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise TypeError
    return raw


_PARSERS: dict[Kind, Callable[[Field, Any], Any]] = {
    Kind.TEXT: _text,
    Kind.LONG_TEXT: _text,
    Kind.CHOICE: _choice,
    Kind.MINUTES: _minutes,
    Kind.DATETIME: _datetime,
    Kind.USER: _user,
    Kind.MODULE: _module,
    Kind.BOOLEAN: _boolean,
    Kind.TICKET: _ticket,
}

T, P, E = Target.TICKET, Target.PLAN, Target.EVENT
PRIORITY_CHOICES = tuple((p.code, p.label) for p in Priority)

PRIORITY = Field("priority", gettext_lazy("priority"), Kind.CHOICE, T, PRIORITY_CHOICES)
ASSIGNEE = Field("assignee", gettext_lazy("assignee"), Kind.USER, T)
MODULE = Field("module", gettext_lazy("module"), Kind.MODULE, T)
PROBLEM_TYPE = Field(
    "problem_type", gettext_lazy("problem type"), Kind.CHOICE, T, tuple(ProblemType.choices)
)
ESTIMATE = Field("estimate_minutes", gettext_lazy("estimated handling time"), Kind.MINUTES, T)
DEADLINE = Field("deadline_at", gettext_lazy("deadline"), Kind.DATETIME, T)
ANALYSIS_NOTES = Field("analysis_notes", gettext_lazy("analysis notes"), Kind.LONG_TEXT, T)
PLAN_KIND = Field("plan_kind", gettext_lazy("plan kind"), Kind.CHOICE, P, tuple(PlanKind.choices))
PLAN_SUMMARY = Field("plan_summary", gettext_lazy("plan"), Kind.LONG_TEXT, P)
FIX_VERSION = Field("fix_version", gettext_lazy("fix version"), Kind.TEXT, P, max_length=50)
RELEASE_AT = Field("release_at", gettext_lazy("release time"), Kind.DATETIME, P)
DELIVERY_SCHEDULE = Field(
    "delivery_schedule", gettext_lazy("delivery schedule"), Kind.LONG_TEXT, P
)
CHANGES_CODE = Field("changes_code", gettext_lazy("changes code"), Kind.BOOLEAN, P)
MAJOR_ENVIRONMENT_CHANGE = Field(
    "major_environment_change", gettext_lazy("major environment change"), Kind.BOOLEAN, P
)
NEEDS_OTHER_DEPARTMENT = Field(
    "needs_other_department", gettext_lazy("needs another department"), Kind.BOOLEAN, P
)
CAUSE = Field("cause", gettext_lazy("cause"), Kind.LONG_TEXT, T)
SOLUTION = Field("solution", gettext_lazy("solution"), Kind.LONG_TEXT, T)
TIME_TAKEN = Field("time_taken_minutes", gettext_lazy("time taken"), Kind.MINUTES, T)
PREVENTION = Field("prevention", gettext_lazy("prevention"), Kind.LONG_TEXT, T)
VERIFICATION_EVIDENCE = Field(
    "verification_evidence", gettext_lazy("verification evidence (logs, screenshots)"),
    Kind.LONG_TEXT, T,
)
NEXT_STEP = Field("next_step", gettext_lazy("next step"), Kind.LONG_TEXT, T)
EXPECTED_COMPLETION = Field(
    "expected_completion_at", gettext_lazy("expected completion"), Kind.DATETIME, T, future=True
)
FIT_REASON = Field(
    "fit_reason", gettext_lazy("why this plan fits the problem (if it does not obviously)"),
    Kind.LONG_TEXT, P,
)
DUPLICATE_OF = Field("duplicate_of", gettext_lazy("duplicate of (ticket key)"), Kind.TICKET, E)
DURATION = Field("duration_minutes", gettext_lazy("duration (minutes)"), Kind.MINUTES, E)
EXECUTED_AT = Field("executed_at", gettext_lazy("executed at"), Kind.DATETIME, E, past=True)
REASON = Field("reason", gettext_lazy("reason"), Kind.LONG_TEXT, E)
COMMENT = Field("comment", gettext_lazy("comment"), Kind.LONG_TEXT, E)

# Registration fields, editable outside an action (see workflow.EDITS).
TITLE = Field("title", gettext_lazy("title"), Kind.TEXT, T, max_length=200)
DESCRIPTION = Field("description", gettext_lazy("description"), Kind.LONG_TEXT, T)
OCCURRED_AT = Field("occurred_at", gettext_lazy("occurred at"), Kind.DATETIME, T, past=True)
STEPS = Field("steps_to_reproduce", gettext_lazy("steps to reproduce"), Kind.LONG_TEXT, T)
ERROR_MESSAGE = Field("error_message", gettext_lazy("error message"), Kind.LONG_TEXT, T)
IMPACT_SCOPE = Field("impact_scope", gettext_lazy("impact scope"), Kind.LONG_TEXT, T)
SUBMITTER_DEPARTMENT = Field(
    "submitter_department", gettext_lazy("submitter department"), Kind.TEXT, T, max_length=100
)
SUBMITTER_CONTACT = Field(
    "submitter_contact", gettext_lazy("submitter contact"), Kind.TEXT, T, max_length=200
)
SUBMITTER_NAME = Field(
    "submitter_name", gettext_lazy("submitter name"), Kind.TEXT, T, max_length=100
)
ALERT_HOST = Field("alert_host", gettext_lazy("alert source host/IP"), Kind.TEXT, T, max_length=255)
ALERT_RULE = Field("alert_rule", gettext_lazy("alert rule"), Kind.TEXT, T, max_length=255)
ALERT_LEVEL = Field("alert_level", gettext_lazy("alert level"), Kind.TEXT, T, max_length=50)
ALERT_AT = Field("alert_at", gettext_lazy("alert time"), Kind.DATETIME, T, past=True)
ALERT_SYMPTOM = Field("alert_symptom", gettext_lazy("first symptom"), Kind.LONG_TEXT, T)
IMPACT = Field("impact", gettext_lazy("impact"), Kind.CHOICE, T, tuple(Impact.choices))
URGENCY = Field("urgency", gettext_lazy("urgency"), Kind.CHOICE, T, tuple(Urgency.choices))
COLLABORATOR = Field("collaborators", gettext_lazy("collaborator"), Kind.USER, T)
