"""The JSON a ticket endpoint answers with, built directly from the ticket.

``schemas.TicketOut`` documents this shape (OpenAPI) and a test holds the two equal; the
answer is not run through it because validating a ticket from its attributes through
ninja's schema machinery cost more than filing the ticket did (about a third of a create).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.sla.selectors import sla_summary
from opsdesk.tickets import policy, workflow
from opsdesk.tickets.models import Plan, Ticket
from opsdesk.tickets.schemas import UserRef

# Ticket columns the answer shows as they are stored, in the schema's order.
_LIST_COLUMNS = ("key", "id", "title", "status")
_SOURCE_COLUMNS = ("source_kind", "channel", "submitted_at", "submitter_name")
_DETAIL_COLUMNS = (
    "submitter_department", "submitter_contact", "description", "occurred_at",
    "steps_to_reproduce", "error_message", "impact_scope", "impact", "urgency", "alert_host",
    "alert_rule", "alert_level", "alert_at", "alert_symptom",
)
_RESULT_COLUMNS = (
    "problem_type", "estimate_minutes", "analysis_notes",
)
_CLOSING_COLUMNS = (
    "escalated_at", "next_step", "expected_completion_at", "cause", "solution",
    "time_taken_minutes", "prevention", "verification_evidence", "reopen_count", "closed_at",
    "archived_at", "updated_at", "dispatched",
)


def describe_action(t: workflow.Transition, ticket: Ticket) -> dict[str, Any]:
    return {
        "name": t.name,
        "label": str(t.label),
        "target": workflow.resolve_target(t, ticket),
        "requires": [
            {**n.field.describe(), "required": n.applies(ticket, {}) if n.when is None else None,
             "when": str(n.why) if n.why else None}
            for n in t.requires
        ],
        "accepts": [fld.describe() for fld in t.accepts],
        "help": str(t.help),
    }


def plan_detail(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "number": plan.number, "kind": plan.kind, "summary": plan.summary,
        "fix_version": plan.fix_version, "release_at": plan.release_at,
        "delivery_schedule": plan.delivery_schedule, "risk_flags": plan.risk_flags,
        "needs_approval": plan.needs_approval, "fit": plan.fit, "fit_reason": plan.fit_reason,
        "created_by": UserRef.of(plan.created_by),
        "created_at": plan.created_at, "approved_by": UserRef.of(plan.approved_by),
        "approved_at": plan.approved_at,
    }


def ticket_detail(user: User, ticket: Ticket, *, new: bool = False) -> dict[str, Any]:
    """Everything ``user`` sees of ``ticket``, with the actions they may take on it now.
    A ``new`` ticket, just filed, has no collaborators yet, nor any clock before dispatch."""
    module = ticket.module
    clock = getattr(ticket, "sla_clock", None) if ticket.dispatched else None
    out: dict[str, Any] = {name: getattr(ticket, name) for name in _LIST_COLUMNS}
    out["priority"] = ticket.priority_code
    out.update((name, getattr(ticket, name)) for name in _SOURCE_COLUMNS)
    out.update({
        "assignee": UserRef.of(ticket.assignee),
        "module": {"id": module.pk, "code": module.code, "name": module.name} if module else None,
        "deadline_at": ticket.deadline_at,
        "version": ticket.version,
        "sla": sla_summary(clock, timezone.now()),
        "submitter": UserRef.of(ticket.submitter),
    })
    out.update((name, getattr(ticket, name)) for name in _DETAIL_COLUMNS)
    out["collaborators"] = [] if new else [UserRef.of(u) for u in ticket.collaborators.all()]
    out.update((name, getattr(ticket, name)) for name in _RESULT_COLUMNS)
    out["current_plan"] = plan_detail(ticket.current_plan)
    out.update((name, getattr(ticket, name)) for name in _CLOSING_COLUMNS)
    out["actions"] = [describe_action(t, ticket) for t in policy.available_actions(user, ticket)]
    out["editable_fields"] = sorted(
        [] if ticket.is_read_only else policy.editable_fields(user, ticket))
    return out
