"""What a workflow action does besides changing the status: the table's ``effects`` and ``gate``.

Each effect runs inside the action's transaction, after the fields are checked and before the
status changes; it may add to ``ctx.event_data``, which lands on the action's timeline event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opsdesk.accounts.models import User
from opsdesk.sla.selectors import ticket_calendar
from opsdesk.tickets import links, registration, risk
from opsdesk.tickets.choices import LinkKind, PlanKind, Priority, SourceKind, Status
from opsdesk.tickets.errors import ApprovalRequired
from opsdesk.tickets.models import Plan, Ticket, TimelineEvent, WorkLogStep
from opsdesk.tickets.selectors import ticket_id_from_key


@dataclass
class ActionContext:
    ticket: Ticket
    actor: User | None  # None: opsdesk's own automation
    values: dict[str, Any]
    now: datetime
    event_data: dict[str, Any] = field(default_factory=dict)
    # Ticket fields an effect changed, in timeline form ({"from": …, "to": …}), for the hooks.
    changed: dict[str, Any] = field(default_factory=dict)


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


def after_failed_fix(ticket: Ticket, values: dict[str, Any]) -> bool:
    """A fix was rejected or the ticket reopened: the next plan says when it will be done."""
    return ticket.reopen_count > 0


def not_a_duplicate(ticket: Ticket, values: dict[str, Any]) -> bool:
    return not values.get("duplicate_of")


def is_sent_back(ticket: Ticket) -> bool:
    """Waiting for its submitter to complete the report (``send_back``), not to answer an
    engineer's question."""
    return ticket.status == Status.WAITING and ticket.status_before_waiting in (
        Status.NEW, Status.ASSIGNED)


def needs_review(ticket: Ticket) -> bool:
    """An urgent ticket, and any emergency (declared on a ticket or filed as one), is archived
    only with its post-incident review (opsdesk/reviews)."""
    return (ticket.priority == Priority.URGENT or ticket.source_kind == SourceKind.EMERGENCY
            or ticket.timeline.filter(kind=TimelineEvent.Kind.EMERGENCY).exists())


def needing_review() -> Q:
    """``needs_review`` as a filter on tickets."""
    emergency = TimelineEvent.objects.filter(ticket=OuterRef("pk"),
                                             kind=TimelineEvent.Kind.EMERGENCY)
    return (Q(priority=Priority.URGENT) | Q(source_kind=SourceKind.EMERGENCY)
            | Q(Exists(emergency)))


def review_missing(ticket: Ticket, now: datetime) -> str | None:
    """Why ``ticket`` may not be archived yet: it needs a post-incident review and has no
    complete one."""
    from opsdesk.reviews.selectors import review_state  # the reviews app builds on tickets

    if not needs_review(ticket):
        return None
    state = review_state(ticket_id=ticket.pk)
    if state == "complete":
        return None
    why = (_("it is urgent") if ticket.priority == Priority.URGENT
           else _("an emergency was declared on it"))
    if state == "draft":
        return _("%(key)s cannot be archived yet: its post-incident review (required because "
                 "%(why)s) is still a draft. Complete it first.") % {"key": ticket.key,
                                                                      "why": why}
    return _("%(key)s cannot be archived without a post-incident review (required because "
             "%(why)s): write it on the ticket's page and complete it.") % {
                 "key": ticket.key, "why": why}


def outside_reopen_window(ticket: Ticket, now: datetime) -> str | None:
    """A closed ticket may be reopened for OPSDESK_REOPEN_DAYS days; after that the problem
    is reported again as a recurrence (a new ticket, linked)."""
    days = settings.OPSDESK_REOPEN_DAYS
    if ticket.closed_at is None or now <= ticket.closed_at + timedelta(days=days):
        return None
    return ngettext(
        "%(key)s was closed more than %(days)d day ago and can no longer be reopened; report "
        "it again as a recurrence.",
        "%(key)s was closed more than %(days)d days ago and can no longer be reopened; report "
        "it again as a recurrence.", days) % {"key": ticket.key, "days": days}


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
        fit=risk.plan_fit(ctx.ticket.problem_type, v["plan_kind"], v.get("fit_reason") or ""),
        fit_reason=v.get("fit_reason") or "",
        created_by=ctx.actor,
        created_at=ctx.now,
    )
    ctx.ticket.current_plan = plan
    ctx.event_data["plan"] = {
        "number": plan.number,
        "kind": plan.kind,
        "summary": plan.summary,
        "risk_flags": plan.risk_flags,
        "fit": plan.fit,
    }
    if plan.fit_reason:
        ctx.event_data["plan"]["fit_reason"] = plan.fit_reason


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


def note_missing_registration(ctx: ActionContext) -> None:
    """Name what a complete report lacks, for the submitter (the reason says it in words)."""
    ctx.event_data["missing"] = registration.still_missing(ctx.ticket)


def link_duplicate(ctx: ActionContext) -> None:
    """Closing as a duplicate points to the original, on both tickets."""
    key = ctx.values.get("duplicate_of")
    if not key:
        return
    original = Ticket.objects.get(pk=ticket_id_from_key(key))
    links.add(source=ctx.ticket, target=original, kind=LinkKind.DUPLICATE_OF, by=ctx.actor,
              at=ctx.now)


def escalate_failed_fix(ctx: ActionContext) -> None:
    """The procedure: a fix that did not work goes to the department head when its plan
    needed the head's approval, or when the deadline (``deadline_of``) has already passed."""
    ticket, plan = ctx.ticket, ctx.ticket.current_plan
    reasons = []
    if plan is not None and plan.needs_approval:
        reasons.append("plan_needed_approval")
    deadline = deadline_of(ticket)
    if deadline is not None and deadline <= ctx.now:
        reasons.append("deadline_passed")
    stop_verification_follow_ups(ticket)
    if not reasons:
        return
    ctx.changed["escalated_at"] = {"from": _iso(ticket.escalated_at), "to": ctx.now.isoformat()}
    ticket.escalated_at = ctx.now
    ctx.event_data["escalated"] = reasons


def note_resolution_round(ctx: ActionContext) -> None:
    """Each resolution is a round: the figure reported now beside the one reported before
    (never replaced unseen) and the time the work log records so far."""
    ticket = ctx.ticket
    logged = (WorkLogStep.objects.filter(ticket=ticket)
              .aggregate(total=Sum("duration_minutes"))["total"] or 0)
    ctx.event_data["round"] = ticket.reopen_count + 1
    ctx.event_data["time_taken"] = {
        "reported_minutes": ctx.values.get("time_taken_minutes"),
        "logged_minutes": logged,
    }
    # The SLA clock stands still while the fix waits: its due time now is the deadline then.
    ctx.event_data["deadline"] = _iso(deadline_of(ticket))


def await_verification(ctx: ActionContext) -> None:
    ticket = ctx.ticket
    ticket.verification_requested_at, ticket.verification_reminders = ctx.now, 0
    ticket.next_follow_up_at = next_verification_follow_up(ticket)


def stop_verification_follow_ups(ticket: Ticket) -> None:
    ticket.verification_requested_at, ticket.verification_reminders = None, 0
    ticket.next_follow_up_at = None


def next_verification_follow_up(ticket: Ticket) -> datetime | None:
    """When the worker next has something to do for the fix waiting for verification: the
    reminder after the next whole working day, or, on the last one, the closure."""
    if ticket.verification_requested_at is None:
        return None
    days = min(ticket.verification_reminders + 1, settings.OPSDESK_VERIFICATION_DAYS)
    calendar = ticket_calendar(ticket_id=ticket.pk)
    return calendar.add_working_days(ticket.verification_requested_at, [days * ONE_DAY])[0]


def verification_closes_at(ticket: Ticket) -> datetime | None:
    """When a fix still waiting for its verification closes by itself."""
    if ticket.verification_requested_at is None:
        return None
    calendar = ticket_calendar(ticket_id=ticket.pk)
    days = settings.OPSDESK_VERIFICATION_DAYS * ONE_DAY
    return calendar.add_working_days(ticket.verification_requested_at, [days])[0]


def working_days_waiting(ticket: Ticket, now: datetime) -> int:
    """Whole working days (of the ticket's SLA calendar) its fix has waited for verification."""
    if ticket.verification_requested_at is None:
        return 0
    calendar = ticket_calendar(ticket_id=ticket.pk)
    return calendar.working_days_between(ticket.verification_requested_at, now) // ONE_DAY


def note_reminder(ctx: ActionContext) -> None:
    """One reminder per whole working day waited: a worker that was down for two days sends
    one, numbered for the day it is, not two in a row."""
    ticket = ctx.ticket
    ticket.verification_reminders = max(ticket.verification_reminders + 1,
                                        working_days_waiting(ticket, ctx.now))
    ticket.next_follow_up_at = next_verification_follow_up(ticket)
    closes_at = verification_closes_at(ticket)
    ctx.event_data.update({
        "reminder": ticket.verification_reminders,
        "reminders": max(settings.OPSDESK_VERIFICATION_DAYS - 1, 0),
        "closes_at": _iso(closes_at),
    })


def note_auto_close(ctx: ActionContext) -> None:
    """The numbers the timeline explains the closing with, in each reader's language."""
    ctx.event_data.update({
        "working_days": settings.OPSDESK_VERIFICATION_DAYS,
        "reopen_days": settings.OPSDESK_REOPEN_DAYS,
    })


def deadline_of(ticket: Ticket) -> datetime | None:
    """The ticket's deadline: the one set at classification (required for urgent and high
    priority), else its SLA resolution due time. While the fix waits for verification that
    clock stands still, so the due time it had when the fix was sent (on the ``resolve``
    event) stands in. ``follow_ups.request_overdue_progress`` computes it in its query too."""
    if ticket.deadline_at is not None:
        return ticket.deadline_at
    due = (Ticket.objects.filter(pk=ticket.pk)
           .values_list("sla_clock__resolution_due_at", flat=True).first())
    if due is None and ticket.status == Status.AWAITING_VERIFICATION:
        sent = (ticket.timeline.filter(kind=TimelineEvent.Kind.TRANSITION,
                                       data__action="resolve")
                .order_by("-id").values_list("data__deadline", flat=True).first())
        due = parse_datetime(sent) if isinstance(sent, str) else None
    return due


def progress_due(ticket: Ticket) -> datetime | None:
    """The moment past which the assignee owes a progress update: the later of the deadline
    (``deadline_of``) and the expected completion time last stated."""
    moments = [m for m in (deadline_of(ticket), ticket.expected_completion_at) if m is not None]
    return max(moments) if moments else None


def note_progress_requested(ctx: ActionContext) -> None:
    due = progress_due(ctx.ticket)
    ctx.ticket.progress_requested_for = due
    ctx.event_data["due"] = _iso(due)


def back_to_triage_without_assignee(ctx: ActionContext) -> Status | None:
    """A reopened ticket nobody was assigned (closed at triage) goes back to triage."""
    return Status.NEW if ctx.ticket.assignee_id is None else None


def reopen_closed(ctx: ActionContext) -> None:
    ticket = ctx.ticket
    ctx.event_data["closed_at"] = _iso(ticket.closed_at)
    ticket.closed_at = ticket.archived_at = None
    stop_verification_follow_ups(ticket)


ONE_DAY = timedelta(days=1)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
