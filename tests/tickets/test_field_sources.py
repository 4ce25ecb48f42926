"""The model is the one source of a ticket's fields: the workflow's fields, the API's request
shapes and the action forms show each column's label, offer its choices and bound text to its
length; hard-coding a different one anywhere fails here."""

from __future__ import annotations

import enum
import typing
from typing import Any

import annotated_types
import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from django.utils.text import capfirst
from ninja import Schema

from opsdesk.tickets import fields as f
from opsdesk.tickets import schemas, workflow
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Plan, Ticket, WorkLogStep
from opsdesk.web.action_forms import Choices, action_form, edit_form
from tests.factories import ticket_in

STORED = [fld for fld in vars(f).values()
          if isinstance(fld, f.Field) and fld.target is not f.Target.EVENT]
# A form label that adds a hint to the column's name.
HINTED = {f.VERIFICATION_EVIDENCE.name, f.FIT_REASON.name}
PLAN_COLUMNS = {f.PLAN_KIND.name: "kind", f.PLAN_SUMMARY.name: "summary"}


def column(fld: f.Field) -> models.Field[Any, Any]:
    if fld.target is f.Target.PLAN:
        found = Plan._meta.get_field(PLAN_COLUMNS.get(fld.name, fld.name))
    else:
        found = Ticket._meta.get_field(fld.name)
    assert isinstance(found, models.Field)
    return found


def offered(fld: f.Field) -> list[str]:
    """The values the column accepts, as a caller names them."""
    values = [value for value, _label in column(fld).choices or ()]
    return [Priority(v).code for v in values] if fld is f.PRIORITY else values


def untranslated(text: Any) -> str:
    with translation.override(None):
        return str(text)


@pytest.mark.parametrize("fld", STORED, ids=lambda fld: fld.name)
def test_a_workflow_field_describes_its_column(fld: f.Field) -> None:
    stored = column(fld)
    label, name = untranslated(fld.label), untranslated(stored.verbose_name)
    assert label.startswith(f"{name} (") if fld.name in HINTED else label == name
    assert fld.max_length == (stored.max_length if fld.kind is f.Kind.TEXT else None)
    if fld.kind is f.Kind.TEXT:
        assert isinstance(stored, models.CharField)
    if fld.kind is f.Kind.LONG_TEXT:
        assert isinstance(stored, models.TextField)  # bounded by LONG_TEXT_MAX, not a column
    if fld.kind is f.Kind.CHOICE:
        assert [value for value, _label in fld.choices] == offered(fld)
        assert [untranslated(shown) for _value, shown in fld.choices] == [
            untranslated(shown) for _value, shown in column(fld).choices or ()]


def _max_length(info: Any) -> int | None:
    return next((m.max_length for m in info.metadata if isinstance(m, annotated_types.MaxLen)),
                None)


def _enum(annotation: Any) -> type[enum.Enum] | None:
    for kind in (annotation, *typing.get_args(annotation)):
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return kind
    return None


REQUESTS = [schemas.TicketIn, schemas.RecurrenceIn]


@pytest.mark.parametrize("shape", REQUESTS, ids=lambda shape: shape.__name__)
def test_a_request_shape_bounds_and_offers_what_the_ticket_stores(shape: type[Schema]) -> None:
    compared = 0
    for name, info in shape.model_fields.items():
        try:
            stored = Ticket._meta.get_field(name)
        except FieldDoesNotExist:  # not a column of the ticket (the submitter's username)
            continue
        if isinstance(stored, models.CharField) and stored.choices:
            choice = _enum(info.annotation)
            assert choice is not None, name
            assert [c.value for c in choice] == [v for v, _label in stored.choices], name
        elif isinstance(stored, models.CharField):
            assert _max_length(info) == stored.max_length, name
        elif isinstance(stored, models.TextField):
            assert _max_length(info) == f.LONG_TEXT_MAX, name
        compared += 1
    assert compared >= 5


def test_the_documented_priority_codes_are_the_columns() -> None:
    assert list(typing.get_args(schemas.PriorityCode)) == offered(f.PRIORITY)


def test_a_work_log_step_target_is_bounded_by_its_column() -> None:
    target = WorkLogStep._meta.get_field("target")
    assert _max_length(schemas.WorkLogIn.model_fields["target"]) == target.max_length


@pytest.mark.django_db
def test_the_action_forms_label_offer_and_bound_as_the_columns(
    people: dict[str, Any],
) -> None:
    ticket = ticket_in(Status.NEW, people=people)
    choices = Choices()
    forms = [action_form(t, ticket, choices) for t in workflow.TRANSITIONS]
    forms.append(edit_form(ticket, set(workflow.EDITABLE_FIELDS), choices))
    by_name = {fld.name: fld for fld in STORED}
    checked = set()
    for form in forms:
        assert form is not None
        for item in form.inputs:
            fld = by_name.get(item.name)
            if fld is None:
                continue  # stored only on the timeline event
            stored = column(fld)
            if fld.name not in HINTED:
                assert item.label == capfirst(str(stored.verbose_name))
            assert item.max_length == (stored.max_length if fld.kind is f.Kind.TEXT else None)
            if fld.kind is f.Kind.CHOICE:
                assert [value for value, _label in item.choices] == offered(fld)
            checked.add(item.name)
    assert {"title", "priority", "fix_version", "plan_kind"} <= checked
