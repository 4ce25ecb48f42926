"""The JSON a ticket endpoint answers with, built directly from the ticket.

``schemas.TicketOut`` (a ticket) and ``schemas.TicketPage`` (a list) document these shapes
(OpenAPI) and tests hold each equal to its schema; the answers are not run through them
because validating a ticket from its attributes through ninja's schema machinery cost more
than filing the ticket did (about a third of a create), and a quarter of a list page. An
answer takes its names, in order, from the schema: what it computes is named here, any other
name is the ticket's (the plan's) attribute as it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone, translation

from opsdesk.accounts.models import User
from opsdesk.sla.models import Clock
from opsdesk.sla.selectors import sla_summary
from opsdesk.tickets import policy, selectors, workflow
from opsdesk.tickets.models import Plan, Ticket
from opsdesk.tickets.schemas import PlanOut, TicketListEntry, TicketOut, UserRef

_ANSWERED = tuple(TicketOut.model_fields)
_PLAN_ANSWERED = tuple(PlanOut.model_fields)
_LISTED = tuple(TicketListEntry.model_fields)
# What a list entry reads, and all a list loads (``selectors.list_tickets(columns=…)``): with
# every column of the ticket, its assignee's account and the clock's policy, building the
# fifty model instances of a page cost more than the query.
LISTED_COLUMNS = (
    "title", "status", "priority", "source_kind", "channel", "submitted_at", "submitter_name",
    "deadline_at", "version",
    "assignee__username", "assignee__display_name", "assignee__first_name", "assignee__last_name",
    "module__code", "module__name",
    *(f"sla_clock__{fld.name}" for fld in Clock._meta.concrete_fields if not fld.is_relation),
    "sla_clock__policy__name",
)


@dataclass(frozen=True)
class _Described:
    """What an answer says of an action whatever the ticket, in one language."""

    transition: workflow.Transition
    label: str
    requires: tuple[tuple[dict[str, Any], str | None], ...]  # a field, and when it is needed
    accepts: tuple[dict[str, Any], ...]
    help: str


# (action name, language) → its description. Every answer lists the actions open to the
# reader, each with its fields' labels and choices: translated once per language and process
# instead of in every answer (a fifth of a new ticket's answer).
_described: dict[tuple[str, str | None], _Described] = {}


def _described_action(t: workflow.Transition) -> _Described:
    key = (t.name, translation.get_language())
    described = _described.get(key)
    if described is None or described.transition is not t:
        described = _described[key] = _Described(
            transition=t,
            label=str(t.label),
            requires=tuple((n.field.describe(), str(n.why) if n.why else None)
                           for n in t.requires),
            accepts=tuple(fld.describe() for fld in t.accepts),
            help=str(t.help),
        )
    return described


def describe_action(t: workflow.Transition, ticket: Ticket) -> dict[str, Any]:
    described = _described_action(t)
    return {
        "name": t.name,
        "label": described.label,
        "target": workflow.resolve_target(t, ticket),
        "requires": [
            {**field, "required": n.applies(ticket, {}) if n.when is None else None,
             "when": when}
            for n, (field, when) in zip(t.requires, described.requires, strict=True)
        ],
        "accepts": [dict(field) for field in described.accepts],
        "help": described.help,
    }


def plan_detail(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    computed = {"created_by": UserRef.of(plan.created_by),
                "approved_by": UserRef.of(plan.approved_by)}
    return {name: computed[name] if name in computed else getattr(plan, name)
            for name in _PLAN_ANSWERED}


def ticket_detail(user: User, ticket: Ticket, *, new: bool = False) -> dict[str, Any]:
    """Everything ``user`` sees of ``ticket``, with the actions they may take on it now.
    A ``new`` ticket, just filed, has no collaborators yet, nor any clock before dispatch."""
    module = ticket.module
    clock = getattr(ticket, "sla_clock", None) if ticket.dispatched else None
    computed: dict[str, Any] = {
        "priority": ticket.priority_code,
        "assignee": UserRef.of(ticket.assignee),
        "module": {"id": module.pk, "code": module.code, "name": module.name} if module else None,
        "sla": sla_summary(clock, timezone.now()),
        "submitter": UserRef.of(ticket.submitter),
        "collaborators": [] if new else [UserRef.of(u) for u in ticket.collaborators.all()],
        "current_plan": plan_detail(ticket.current_plan),
        "actions": [describe_action(t, ticket) for t in policy.available_actions(user, ticket)],
        "editable_fields": sorted(
            [] if ticket.is_read_only else policy.editable_fields(user, ticket)),
    }
    return {name: computed[name] if name in computed else getattr(ticket, name)
            for name in _ANSWERED}


def list_entry(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """A ticket as a list shows it (``TicketListEntry``), its SLA as of ``now``."""
    module = ticket.module
    computed: dict[str, Any] = {
        "priority": ticket.priority_code,
        "assignee": UserRef.of(ticket.assignee),
        "module": {"id": module.pk, "code": module.code, "name": module.name} if module else None,
        "sla": sla_summary(getattr(ticket, "sla_clock", None), now),
        "highlights": getattr(ticket, "highlights", None),
    }
    return {name: computed[name] if name in computed else getattr(ticket, name)
            for name in _LISTED}


def ticket_page(page: selectors.Page) -> dict[str, Any]:
    """A page of a list (``TicketPage``), every entry's SLA as of one moment."""
    now = timezone.now()
    return {"items": [list_entry(ticket, now) for ticket in page.items],
            "next_cursor": page.next_cursor}
