"""Reads for inspections: plans with their checklists, runs by state, a run with its results,
and the inspection behind a ticket. Department staff read them all."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.inspections.models import InspectionPlan, InspectionResult, InspectionRun, RunStatus
from opsdesk.tickets.errors import InvalidField, NotFound, PermissionRefused
from opsdesk.tickets.models import Ticket

RUN_STATES = ("due", "overdue", "done")


def require_reader(user: User) -> None:
    if not user.is_department_staff:
        raise PermissionRefused(_("Inspections are for department staff."))


def list_plans(*, user: User, active: bool | None = None) -> QuerySet[InspectionPlan]:
    require_reader(user)
    plans = InspectionPlan.objects.select_related("owner", "module").prefetch_related("items")
    if active is not None:
        plans = plans.filter(active=active)
    return plans.order_by("name")


def get_plan(*, user: User, plan_id: int) -> InspectionPlan:
    plan = list_plans(user=user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("No such inspection plan."))
    return plan


def _runs() -> QuerySet[InspectionRun]:
    return InspectionRun.objects.select_related(
        "plan__owner", "plan__module", "started_by", "finished_by"
    )


def list_runs(
    *, user: User, state: str | None = None, plan_id: int | None = None,
    owner: User | None = None, limit: int = 100, now: datetime | None = None,
) -> QuerySet[InspectionRun]:
    """Runs in one state: due and overdue ones soonest first, done ones latest first."""
    require_reader(user)
    now = now or timezone.now()
    runs = _runs()
    if plan_id is not None:
        runs = runs.filter(plan_id=plan_id)
    if owner is not None:
        runs = runs.filter(plan__owner=owner)
    if state is None:
        return runs.order_by("-due_at", "-id")[:limit]
    if state not in RUN_STATES:
        raise InvalidField(
            _("state: %(value)r is not one of due, overdue, done.") % {"value": state},
            field="state",
        )
    if state == RunStatus.DONE:
        return runs.filter(status=RunStatus.DONE).order_by("-finished_at", "-id")[:limit]
    open_runs = runs.filter(status=RunStatus.DUE)
    late = Q(overdue_at__lte=now)
    open_runs = open_runs.filter(late) if state == "overdue" else open_runs.exclude(late)
    return open_runs.order_by("due_at", "id")[:limit]


def get_run(*, user: User, run_id: int) -> InspectionRun:
    """A run with its plan's checklist and the results recorded so far."""
    require_reader(user)
    results = InspectionResult.objects.select_related("ticket", "recorded_by")
    run = (
        _runs()
        .prefetch_related("plan__items", Prefetch("results", queryset=results))
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound(_("No such inspection run."))
    return run


def result_for_ticket(ticket: Ticket) -> InspectionResult | None:
    """The inspection result that opened ``ticket``, if one did."""
    return (
        InspectionResult.objects.select_related("run__plan", "item")
        .filter(ticket=ticket)
        .first()
    )
