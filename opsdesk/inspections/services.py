"""Every write of the inspections app: scheduling runs, recording results (a failed item opens
one ticket through the tickets services), and telling owners about overdue runs.

The scheduler and the overdue check are run by the worker's periodic jobs; both are
idempotent, so several workers, or a worker restarted halfway, create each run and send each
reminder once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.roles import Role
from opsdesk.inspections import cron
from opsdesk.inspections.errors import NoTicketForEvidence, RunFinished
from opsdesk.inspections.models import (
    InspectionItem,
    InspectionPlan,
    InspectionResult,
    InspectionRun,
    Outcome,
    RunStatus,
)
from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, Impact, SourceKind, Urgency
from opsdesk.tickets.errors import InvalidField, NotFound, PermissionRefused
from opsdesk.tickets.models import Attachment, Ticket

# Roles that may record any plan's results besides its owner; others need the permission.
RECORDING_ROLES = (Role.DUTY, Role.ADMIN)
RECORD_PERMISSION = "inspections.record_inspection"


def next_due_after(*, plan: InspectionPlan, moment: datetime) -> datetime:
    """The plan's first scheduled moment strictly after ``moment``."""
    return cron.parse(plan.schedule).next_after(moment, plan.zone)


@transaction.atomic
def create_plan(
    *, name: str, owner: User, schedule: str, items: Sequence[str | tuple[str, str]],
    module: Module | None = None, time_zone: str = "", grace_minutes: int = 60,
    description: str = "", default_impact: str = Impact.FEW_USERS,
    default_urgency: str = Urgency.NORMAL,
) -> InspectionPlan:
    """A plan with its checklist (titles, or (title, guidance) pairs, in order), scheduled
    from now. Raises ValidationError for a bad schedule or time zone."""
    plan = InspectionPlan(
        name=name, owner=owner, schedule=schedule, module=module, grace_minutes=grace_minutes,
        description=description, default_impact=default_impact,
        default_urgency=default_urgency,
    )
    if time_zone:
        plan.time_zone = time_zone
    plan.full_clean()
    plan.save()
    for order, entry in enumerate(items, start=1):
        title, guidance = (entry, "") if isinstance(entry, str) else entry
        InspectionItem.objects.create(plan=plan, order=order, title=title, guidance=guidance)
    return refresh_schedule(plan=plan)


def refresh_schedule(*, plan: InspectionPlan, now: datetime | None = None) -> InspectionPlan:
    """After the plan's schedule, zone or active flag changed: its next run is the schedule's
    next moment from now (runs already created stay as they are)."""
    now = now or timezone.now()
    plan.next_due_at = next_due_after(plan=plan, moment=now) if plan.active else None
    plan.save(update_fields=["next_due_at"])
    return plan


def schedule_due_runs(*, now: datetime | None = None) -> list[InspectionRun]:
    """Create the run of every active plan whose scheduled moment has come, once each.

    After downtime, only the latest missed moment gets a run: a checklist is run once for the
    present state, not replayed for every hour nobody was there."""
    now = now or timezone.now()
    created: list[InspectionRun] = []
    unscheduled = InspectionPlan.objects.filter(active=True, next_due_at__isnull=True)
    for plan in unscheduled.only("pk"):
        with transaction.atomic():
            locked = _locked_plan(plan.pk)
            if locked is not None and locked.next_due_at is None:
                refresh_schedule(plan=locked, now=now)
    due = InspectionPlan.objects.filter(active=True, next_due_at__lte=now)
    for plan in due.only("pk"):
        with transaction.atomic():
            run = _schedule_plan(plan.pk, now)
            if run is not None:
                created.append(run)
    return created


def _locked_plan(plan_id: int) -> InspectionPlan | None:
    # skip_locked: another worker is scheduling this plan right now.
    return InspectionPlan.objects.select_for_update(skip_locked=True).filter(pk=plan_id).first()


def _schedule_plan(plan_id: int, now: datetime) -> InspectionRun | None:
    plan = _locked_plan(plan_id)
    if plan is None or not plan.active or plan.next_due_at is None or plan.next_due_at > now:
        return None
    schedule, due_at = cron.parse(plan.schedule), plan.next_due_at
    following = schedule.next_after(due_at, plan.zone)
    while following <= now:
        due_at, following = following, schedule.next_after(following, plan.zone)
    run, is_new = InspectionRun.objects.get_or_create(
        plan=plan, due_at=due_at,
        defaults={"overdue_at": due_at + timedelta(minutes=plan.grace_minutes), "created_at": now},
    )
    plan.next_due_at = following
    plan.save(update_fields=["next_due_at"])
    return run if is_new else None


def notify_overdue_runs(*, now: datetime | None = None) -> list[InspectionRun]:
    """Tell each overdue run's plan owner, once per run."""
    now = now or timezone.now()
    notified = []
    candidates = InspectionRun.objects.filter(
        status=RunStatus.DUE, overdue_at__lte=now, overdue_notified_at__isnull=True
    )
    for run_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            run = (
                InspectionRun.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plan__owner")
                .filter(pk=run_id, status=RunStatus.DUE, overdue_notified_at__isnull=True)
                .first()
            )
            if run is None:
                continue
            notify.notify(
                kind=NotificationKind.INSPECTION_OVERDUE, ticket=None,
                recipients=[run.plan.owner],
                context={"plan": run.plan.name, "due_at": run.due_at},
                dedupe_key=f"inspection-overdue:{run.pk}",
            )
            run.overdue_notified_at = now
            run.save(update_fields=["overdue_notified_at"])
            notified.append(run)
    return notified


def run_periodic_checks() -> None:
    """The worker's periodic job: create due runs, then remind owners of overdue ones."""
    schedule_due_runs()
    notify_overdue_runs()


def may_record(user: User, plan: InspectionPlan) -> bool:
    return (
        user.pk == plan.owner_id
        or user.has_role(*RECORDING_ROLES)
        or user.has_perm(RECORD_PERMISSION)
    )


def _require_recorder(user: User, plan: InspectionPlan) -> None:
    if not may_record(user, plan):
        raise PermissionRefused(
            _("Only the plan's owner, the duty engineer or someone with the right may record "
              "this inspection.")
        )


@dataclass(frozen=True)
class ResultInput:
    """One item's result as the caller gives it."""

    item: int
    outcome: str
    notes: str = ""
    evidence: str = ""
    impact: str | None = None
    urgency: str | None = None


def _locked_run(run_id: int) -> InspectionRun:
    run = (
        InspectionRun.objects.select_for_update(of=("self",))
        .select_related("plan__owner", "plan__module")
        .filter(pk=run_id)
        .first()
    )
    if run is None:
        raise NotFound(_("No such inspection run."))
    return run


def _check(entries: Sequence[ResultInput], items: dict[int, InspectionItem]) -> None:
    seen: set[int] = set()
    for entry in entries:
        if entry.item not in items:
            raise InvalidField(
                _("Item %(item)s is not on this plan's checklist.") % {"item": entry.item},
                field="item",
            )
        if entry.item in seen:
            raise InvalidField(
                _("Item %(item)s is given twice.") % {"item": entry.item}, field="item"
            )
        seen.add(entry.item)
        if entry.outcome not in Outcome.values:
            raise InvalidField(
                _("%(value)r is not an outcome: pass, fail or na.") % {"value": entry.outcome},
                field="outcome",
            )
        if entry.outcome == Outcome.FAIL and not entry.notes.strip():
            raise InvalidField(
                _("A failed item needs notes saying what was found: %(item)s.")
                % {"item": items[entry.item].title},
                field="notes",
            )
        if entry.impact is not None and entry.impact not in Impact.values:
            raise InvalidField(_("%(value)r is not an impact.") % {"value": entry.impact},
                               field="impact")
        if entry.urgency is not None and entry.urgency not in Urgency.values:
            raise InvalidField(_("%(value)r is not an urgency.") % {"value": entry.urgency},
                               field="urgency")


@transaction.atomic
def record_results(
    *, run_id: int, by: User, results: Sequence[ResultInput], finish: bool = False,
) -> InspectionRun:
    """Record item results on a run, by its plan's owner or someone with the right; with
    ``finish`` the run is done, which needs a result for every item. Results may be changed
    until then. Each failed item opens one ticket (source and channel "inspection"), however
    often it is submitted again."""
    run = _locked_run(run_id)
    _require_recorder(by, run.plan)
    if run.status == RunStatus.DONE:
        raise RunFinished(_("This inspection run is finished; its results can no longer change."))
    items = {item.pk: item for item in run.plan.items.all()}
    _check(results, items)
    now = timezone.now()
    existing = {result.item_id: result for result in run.results.all()}
    for entry in results:
        result = existing.get(entry.item) or InspectionResult(run=run, item=items[entry.item])
        result.outcome, result.notes, result.evidence = entry.outcome, entry.notes, entry.evidence
        result.impact, result.urgency = entry.impact or "", entry.urgency or ""
        result.recorded_by, result.recorded_at = by, now
        if result.outcome == Outcome.FAIL and result.ticket_id is None:
            result.ticket = _open_ticket(run, result, by)
        result.save()
        existing[entry.item] = result
    if run.started_at is None:
        run.started_by, run.started_at = by, now
    if finish:
        unanswered = [item.title for pk, item in items.items() if pk not in existing]
        if unanswered:
            raise InvalidField(
                _("To finish the run, record every item; missing: %s.") % ", ".join(unanswered),
                field="results", missing=unanswered,
            )
        run.status, run.finished_by, run.finished_at = RunStatus.DONE, by, now
    run.save()
    return run


def _open_ticket(run: InspectionRun, result: InspectionResult, by: User) -> Ticket:
    plan = run.plan
    # Stored text is written in the department's language, whoever's browser sent it.
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Inspection failed: %(plan)s — %(item)s") % {
            "plan": plan.name, "item": result.item.title}
        lines = [
            _("Inspection plan: %(plan)s (run due %(due)s)") % {
                "plan": plan.name,
                "due": f"{timezone.localtime(run.due_at, plan.zone):%Y-%m-%d %H:%M}"},
            _("Check: %(item)s") % {"item": result.item.title},
            _("Found: %(notes)s") % {"notes": result.notes},
        ]
        if result.evidence:
            lines.append(_("Evidence: %(evidence)s") % {"evidence": result.evidence})
    return tickets.create_ticket(
        by=by, submitter=by, title=title[:200], description="\n".join(lines),
        impact=result.impact or plan.default_impact,
        urgency=result.urgency or plan.default_urgency,
        source_kind=SourceKind.INSPECTION, channel=Channel.INSPECTION,
        module=plan.module.code if plan.module else None,
    )


@transaction.atomic
def attach_evidence(
    *, run_id: int, item_id: int, by: User, name: str, content: bytes | File,
    content_type: str = "",
) -> Attachment:
    """Attach an evidence file (a screenshot, a log) to the ticket a failed item opened."""
    run = _locked_run(run_id)
    _require_recorder(by, run.plan)
    result = run.results.filter(item_id=item_id).first()
    if result is None or result.ticket_id is None:
        raise NoTicketForEvidence(
            _("Evidence files are kept on the ticket a failed item opens; record the item as "
              "failed first, or write the evidence as text.")
        )
    return tickets.add_attachment(
        ticket_id=result.ticket_id, by=by, name=name, content=content,
        content_type=content_type,
    )
