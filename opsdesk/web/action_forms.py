"""HTML forms generated from the workflow table: one form per action a person may take now,
with exactly the fields its row requires and accepts, and the ticket's editable fields.

The forms only describe inputs and turn posted text back into the values the services parse;
which fields an action needs and whether the values are valid stay the service's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from opsdesk.accounts import selectors as accounts
from opsdesk.accounts.roles import ASSIGNABLE_ROLES, Role
from opsdesk.tickets import fields as f
from opsdesk.tickets import workflow
from opsdesk.tickets.errors import DomainError
from opsdesk.tickets.models import Ticket


@dataclass
class Input:
    name: str
    label: str
    kind: str
    required: bool = False
    when: str = ""  # why a conditional field is needed ("for a code fix")
    choices: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None  # the column's, for text stored in a bounded column
    value: Any = ""
    error: str = ""


@dataclass
class ActionForm:
    name: str
    label: str
    help: str
    inputs: list[Input]
    error: str = ""
    open: bool = False  # shown unfolded: it was just submitted with a problem

    @property
    def has_long_text(self) -> bool:
        return any(i.kind == f.Kind.LONG_TEXT for i in self.inputs)


class Choices:
    """The people and modules a form offers, read once per page."""

    @cached_property
    def assignees(self) -> list[tuple[str, str]]:
        return self._people(ASSIGNABLE_ROLES)

    @cached_property
    def collaborators(self) -> list[tuple[str, str]]:
        return self._people({Role.DEVELOPER, Role.OPS})

    @cached_property
    def modules(self) -> list[tuple[str, str]]:
        return accounts.module_names()

    @staticmethod
    def _people(roles: Iterable[str]) -> list[tuple[str, str]]:
        return [(username, f"{name} · {_role_names(held)}")
                for username, name, held in accounts.people_with_roles(roles)]

    def for_field(self, fld: f.Field) -> list[tuple[str, str]]:
        if fld.kind is f.Kind.CHOICE:
            return [(value, str(label)) for value, label in fld.choices]
        if fld.kind is f.Kind.MODULE:
            return self.modules
        if fld.kind is f.Kind.USER:
            return self.collaborators if fld is f.COLLABORATOR else self.assignees
        return []


def _role_names(roles: Iterable[str]) -> str:
    return ", ".join(str(Role(r).label) for r in sorted(roles))


def _shown(ticket: Ticket, fld: f.Field) -> Any:
    """The ticket's current value of ``fld`` as the form shows it."""
    if fld.target is not f.Target.TICKET:
        return ""
    value = getattr(ticket, fld.name)
    if value is None:
        return ""
    if fld is f.PRIORITY:
        return ticket.priority_code
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
    if fld.kind is f.Kind.USER:
        return value.username
    if fld.kind is f.Kind.MODULE:
        return value.code
    return value


def _input(fld: f.Field, choices: Choices, *, value: Any, required: bool = False,
           when: str = "") -> Input:
    return Input(name=fld.name, label=capfirst(str(fld.label)), kind=fld.kind, required=required,
                 when=when, choices=choices.for_field(fld), max_length=fld.max_length,
                 value=value)


def action_form(transition: workflow.Transition, ticket: Ticket, choices: Choices) -> ActionForm:
    """The form for one row of the table: its required fields first (prefilled from the ticket
    where it already holds them, except those the action must name anew), then the optional."""
    inputs = [
        _input(need.field, choices, required=need.when is None, when=str(need.why or ""),
               value="" if need.given else _shown(ticket, need.field))
        for need in transition.requires
    ]
    inputs += [_input(fld, choices, value=_shown(ticket, fld)) for fld in transition.accepts]
    return ActionForm(name=transition.name, label=str(transition.label),
                      help=str(transition.help), inputs=inputs)


def edit_form(ticket: Ticket, editable: set[str], choices: Choices) -> ActionForm | None:
    """The registration and classification fields ``editable`` by the viewer, in table order."""
    fields = [fld for name, fld in workflow.EDITABLE_FIELDS.items() if name in editable]
    if not fields:
        return None
    return ActionForm(name="edit", label=_("Edit fields"), help="",
                      inputs=[_input(fld, choices, value=_shown(ticket, fld)) for fld in fields])


def posted_values(fields: Iterable[f.Field], post: QueryDict, *,
                  keep_empty: bool = False) -> dict[str, Any]:
    """The posted values of ``fields``, as the service expects them: checkboxes as booleans;
    empty text left out (an action then reports what is missing) unless ``keep_empty``
    (an edit that clears a field)."""
    values: dict[str, Any] = {}
    for fld in fields:
        if fld.kind is f.Kind.BOOLEAN:
            values[fld.name] = fld.name in post
            continue
        # Browsers send a textarea's lines with CRLF; the stored text has LF.
        raw = post.get(fld.name, "").replace("\r\n", "\n")
        if raw.strip() or keep_empty:
            values[fld.name] = raw if fld.kind is f.Kind.LONG_TEXT else raw.strip()
    return values


def changed_values(ticket: Ticket, fields: Iterable[f.Field],
                   values: dict[str, Any]) -> dict[str, Any]:
    """Only what the person changed: an edit form posts every field it shows."""
    return {name: value for name, value in values.items()
            if str(value) != str(_shown(ticket, workflow.EDITABLE_FIELDS[name]))}


def show_problem(form: ActionForm, exc: DomainError, post: QueryDict) -> None:
    """Put the service's refusal on the form: on the fields it names, else above the form;
    keep what the person typed."""
    form.open = True
    named = set(exc.details.get("missing", []))
    named |= set(exc.details.get("fields", []))
    if exc.details.get("field"):
        named.add(exc.details["field"])
    for item in form.inputs:
        if item.kind is f.Kind.BOOLEAN:
            item.value = item.name in post
        elif item.name in post:
            item.value = post[item.name]
        if item.name in exc.details.get("missing", []):
            item.error = _("Required.")
        elif item.name in named:
            item.error = exc.message
    if not named & {i.name for i in form.inputs} or exc.details.get("missing"):
        form.error = exc.message
