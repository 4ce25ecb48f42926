"""The fields a workflow action can ask for: what each is, where it is stored, how it is parsed.

The workflow table names these; the service parses the caller's input with them and the
API, UI and docs describe them from here. A field stored in a column of the ticket or of its
plan takes its label, choices and maximum length from that column (``ticket_field``), so
the model stays their one source.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from opsdesk.accounts import selectors as accounts
from opsdesk.accounts.roles import ASSIGNABLE_ROLES
from opsdesk.bounds import MomentOutOfRange, check_moment, check_past_moment
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.errors import InvalidField, NotFound
from opsdesk.tickets.models import Plan, Ticket
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
    label: StrOrPromise
    kind: Kind
    target: Target
    choices: tuple[tuple[str, StrOrPromise], ...] = ()
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

def ticket_field(name: str) -> models.Field[Any, Any]:
    """The ticket's model field ``name``: what its column holds, under which label."""
    return _model_field(Ticket, name)


def _model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


def _stored(name: str, kind: Kind, target: Target, *, column: str = "",
            label: StrOrPromise | None = None, **limits: bool) -> Field:
    """The field ``name``, stored in the column ``column`` (by default its own name) of the
    ticket or, for a plan's field, of the plan: its label (unless ``label`` adds a hint to
    the column's), choices and maximum length are the column's."""
    stored = _model_field(Plan if target is Target.PLAN else Ticket, column or name)
    offered = cast(list[tuple[Any, StrOrPromise]], stored.choices or [])  # none are grouped
    if name == "priority":  # chosen by its code ("urgent"), stored as its rank
        choices = tuple((Priority(value).code, shown) for value, shown in offered)
    else:
        choices = tuple(offered) if kind is Kind.CHOICE else ()
    return Field(name, label or stored.verbose_name, kind, target, choices,
                 max_length=stored.max_length if kind is Kind.TEXT else None, **limits)


T, P, E = Target.TICKET, Target.PLAN, Target.EVENT

PRIORITY = _stored("priority", Kind.CHOICE, T)
ASSIGNEE = _stored("assignee", Kind.USER, T)
MODULE = _stored("module", Kind.MODULE, T)
PROBLEM_TYPE = _stored("problem_type", Kind.CHOICE, T)
ESTIMATE = _stored("estimate_minutes", Kind.MINUTES, T)
DEADLINE = _stored("deadline_at", Kind.DATETIME, T)
ANALYSIS_NOTES = _stored("analysis_notes", Kind.LONG_TEXT, T)
PLAN_KIND = _stored("plan_kind", Kind.CHOICE, P, column="kind")
PLAN_SUMMARY = _stored("plan_summary", Kind.LONG_TEXT, P, column="summary")
FIX_VERSION = _stored("fix_version", Kind.TEXT, P)
RELEASE_AT = _stored("release_at", Kind.DATETIME, P)
DELIVERY_SCHEDULE = _stored("delivery_schedule", Kind.LONG_TEXT, P)
CHANGES_CODE = _stored("changes_code", Kind.BOOLEAN, P)
MAJOR_ENVIRONMENT_CHANGE = _stored("major_environment_change", Kind.BOOLEAN, P)
NEEDS_OTHER_DEPARTMENT = _stored("needs_other_department", Kind.BOOLEAN, P)
CAUSE = _stored("cause", Kind.LONG_TEXT, T)
SOLUTION = _stored("solution", Kind.LONG_TEXT, T)
TIME_TAKEN = _stored("time_taken_minutes", Kind.MINUTES, T)
PREVENTION = _stored("prevention", Kind.LONG_TEXT, T)
VERIFICATION_EVIDENCE = _stored(
    "verification_evidence", Kind.LONG_TEXT, T,
    label=gettext_lazy("verification evidence (logs, screenshots)"),
)
NEXT_STEP = _stored("next_step", Kind.LONG_TEXT, T)
EXPECTED_COMPLETION = _stored("expected_completion_at", Kind.DATETIME, T, future=True)
FIT_REASON = _stored(
    "fit_reason", Kind.LONG_TEXT, P,
    label=gettext_lazy("why this plan fits the problem (if it does not obviously)"),
)
# Stored only on the timeline event: no column to take them from.
DUPLICATE_OF = Field("duplicate_of", gettext_lazy("duplicate of (ticket key)"), Kind.TICKET, E)
DURATION = Field("duration_minutes", gettext_lazy("duration (minutes)"), Kind.MINUTES, E)
EXECUTED_AT = Field("executed_at", gettext_lazy("executed at"), Kind.DATETIME, E, past=True)
REASON = Field("reason", gettext_lazy("reason"), Kind.LONG_TEXT, E)
COMMENT = Field("comment", gettext_lazy("comment"), Kind.LONG_TEXT, E)

# Registration fields, editable outside an action (see workflow.EDITS).
TITLE = _stored("title", Kind.TEXT, T)
DESCRIPTION = _stored("description", Kind.LONG_TEXT, T)
OCCURRED_AT = _stored("occurred_at", Kind.DATETIME, T, past=True)
STEPS = _stored("steps_to_reproduce", Kind.LONG_TEXT, T)
ERROR_MESSAGE = _stored("error_message", Kind.LONG_TEXT, T)
IMPACT_SCOPE = _stored("impact_scope", Kind.LONG_TEXT, T)
SUBMITTER_DEPARTMENT = _stored("submitter_department", Kind.TEXT, T)
SUBMITTER_CONTACT = _stored("submitter_contact", Kind.TEXT, T)
SUBMITTER_NAME = _stored("submitter_name", Kind.TEXT, T)
ALERT_HOST = _stored("alert_host", Kind.TEXT, T)
ALERT_RULE = _stored("alert_rule", Kind.TEXT, T)
ALERT_LEVEL = _stored("alert_level", Kind.TEXT, T)
ALERT_AT = _stored("alert_at", Kind.DATETIME, T, past=True)
ALERT_SYMPTOM = _stored("alert_symptom", Kind.LONG_TEXT, T)
IMPACT = _stored("impact", Kind.CHOICE, T)
URGENCY = _stored("urgency", Kind.CHOICE, T)
COLLABORATOR = _stored("collaborators", Kind.USER, T)
