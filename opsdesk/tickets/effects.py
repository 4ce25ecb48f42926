"""What a workflow action does besides changing the status: the table's ``effects`` and ``gate``.

Each effect runs inside the action's transaction, after the fields are checked and before the
status changes; it may add to ``ctx.event_data``, which lands on the action's timeline event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Max
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.tickets.choices import PlanKind, Priority, SourceKind, Status
from opsdesk.tickets.errors import ApprovalRequired
from opsdesk.tickets.models import Plan, Ticket


@dataclass
class ActionContext:
    ticket: Ticket
    actor: User | None  # None: opsdesk's own automation
    values: dict[str, Any]
    now: datetime
    event_data: dict[str, Any] = field(default_factory=dict)


def is_urgent_or_high(ticket: Ticket, values: dict[str, Any]) -> bool:
    return ticket.priority in (Priority.URGENT, Priority.HIGH)


def is_code_fix(ticket: Ticket, values: dict[str, Any]) -> bool:
    return values.get("plan_kind") == PlanKind.CODE_FIX


def is_cross_department(ticket: Ticket, values: dict[str, Any]) -> bool:
    return ticket.source_kind == SourceKind.CROSS_DEPARTMENT


def is_delivery(ticket: Ticket, values: dict[str, Any]) -> bool:
    return (
        values.get("plan_kind") == PlanKind.REQUIREMENT_DELIVERY
        or is_cross_department(ticket, values)
    )


def record_plan(ctx: ActionContext) -> None:
    """Store the proposed plan as a new version, with the risk flags the table's ``forces``
    have already settled."""
    v = ctx.values
    assert ctx.actor is not None, "a plan is always written by a person"
    previous = Plan.objects.filter(ticket=ctx.ticket).aggregate(n=Max("number"))["n"] or 0
    plan = Plan.objects.create(
        ticket=ctx.ticket,
        number=previous + 1,
        kind=v["plan_kind"],
        summary=v["plan_summary"],
        fix_version=v.get("fix_version") or "",
        release_at=v.get("release_at"),
        delivery_schedule=v.get("delivery_schedule") or "",
        changes_code=bool(v.get("changes_code")),
        major_environment_change=bool(v.get("major_environment_change")),
        needs_other_department=bool(v.get("needs_other_department")),
        created_by=ctx.actor,
        created_at=ctx.now,
    )
    ctx.ticket.current_plan = plan
    ctx.event_data["plan"] = {
        "number": plan.number,
        "kind": plan.kind,
        "summary": plan.summary,
        "risk_flags": plan.risk_flags,
    }


def approval_gate(ctx: ActionContext) -> Status | None:
    """A plan with a risk flag goes to the department head before anything is executed."""
    plan = ctx.ticket.current_plan
    if plan is not None and plan.needs_approval and plan.approved_at is None:
        return Status.AWAITING_APPROVAL
    return None


def approve_plan(ctx: ActionContext) -> None:
    plan = ctx.ticket.current_plan
    if plan is None:
        raise ApprovalRequired(_("There is no plan to approve."))
    plan.approved_by = ctx.actor
    plan.approved_at = ctx.now
    plan.save(update_fields=["approved_by", "approved_at"])
    ctx.event_data["plan"] = {"number": plan.number, "risk_flags": plan.risk_flags}


def note_rejected_plan(ctx: ActionContext) -> None:
    plan = ctx.ticket.current_plan
    if plan is not None:
        ctx.event_data["plan"] = {"number": plan.number, "risk_flags": plan.risk_flags}


def mark_escalated(ctx: ActionContext) -> None:
    ctx.ticket.escalated_at = ctx.now


def remember_status_before_waiting(ctx: ActionContext) -> None:
    ctx.ticket.status_before_waiting = ctx.ticket.status


def count_reopen(ctx: ActionContext) -> None:
    ctx.ticket.reopen_count += 1


def set_closed(ctx: ActionContext) -> None:
    ctx.ticket.closed_at = ctx.now


def set_archived(ctx: ActionContext) -> None:
    ctx.ticket.archived_at = ctx.now
