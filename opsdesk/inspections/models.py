"""Inspection plans (a checklist, a cron schedule, an owner), their scheduled runs, and the
result recorded for each checklist item of a run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module, User
from opsdesk.inspections import cron
from opsdesk.tickets.choices import Impact, Urgency
from opsdesk.tickets.models import Ticket


def site_time_zone() -> str:
    # A callable, so that the migration does not freeze whatever OPSDESK_TIME_ZONE was.
    return str(settings.TIME_ZONE)


def validate_schedule(value: str) -> None:
    try:
        cron.parse(value)
    except cron.CronError as exc:
        raise ValidationError(
            _("Not a valid cron expression: %(problem)s."), params={"problem": str(exc)}
        ) from exc


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(zone)s."), params={"zone": value}) from exc


class InspectionPlan(models.Model):
    """A routine check (log review, hardware state) run on a schedule by its owner."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    module = models.ForeignKey(
        Module, verbose_name=_("module"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="inspection_plans",
    )
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="inspection_plans"
    )
    schedule = models.CharField(
        _("schedule"), max_length=100, validators=[validate_schedule],
        help_text=_('A cron expression: minute hour day-of-month month day-of-week, e.g. '
                    '"0 9 * * 1-5" for 09:00 on working days.'),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=site_time_zone, validators=[validate_time_zone],
        help_text=_("The schedule is read on this zone's wall clock."),
    )
    grace_minutes = models.PositiveIntegerField(
        _("grace period (minutes)"), default=60,
        help_text=_("How long after its due time a run may wait before it is overdue."),
    )
    default_impact = models.CharField(
        _("impact of a failed item"), max_length=20, choices=Impact.choices,
        default=Impact.FEW_USERS,
        help_text=_("Used for the ticket a failed item opens, unless the result names one."),
    )
    default_urgency = models.CharField(
        _("urgency of a failed item"), max_length=20, choices=Urgency.choices,
        default=Urgency.NORMAL,
    )
    active = models.BooleanField(_("active"), default=True)
    # The next scheduled run not created yet; the scheduler moves it forward.
    next_due_at = models.DateTimeField(_("next run due at"), null=True, blank=True,
                                       editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        indexes = [models.Index(fields=["active", "next_due_at"], name="inspection_plan_due")]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class InspectionItem(models.Model):
    """One check on a plan's checklist."""

    plan = models.ForeignKey(InspectionPlan, verbose_name=_("plan"), on_delete=models.CASCADE,
                             related_name="items")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("check"), max_length=200)
    guidance = models.TextField(
        _("guidance"), blank=True, help_text=_("How to check it and what counts as a pass.")
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.title


class RunStatus(models.TextChoices):
    DUE = "due", _("Due")
    DONE = "done", _("Done")


class InspectionRun(models.Model):
    """One scheduled occurrence of a plan. It is overdue when it is not done by ``overdue_at``
    (its due time plus the plan's grace period when it was scheduled)."""

    plan = models.ForeignKey(InspectionPlan, verbose_name=_("plan"), on_delete=models.PROTECT,
                             related_name="runs")
    due_at = models.DateTimeField(_("due at"))
    overdue_at = models.DateTimeField(_("overdue at"))
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.DUE
    )
    started_by = models.ForeignKey(
        User, verbose_name=_("started by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_by = models.ForeignKey(
        User, verbose_name=_("finished by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+"
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue notified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("inspection run")
        verbose_name_plural = _("inspection runs")
        permissions = [("record_inspection", _("Can record the results of any inspection"))]
        constraints = [
            models.UniqueConstraint(fields=["plan", "due_at"], name="unique_inspection_run")
        ]
        indexes = [
            models.Index(fields=["status", "overdue_at"], name="inspection_run_open"),
            models.Index(fields=["status", "-finished_at"], name="inspection_run_done"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} @ {self.due_at:%Y-%m-%d %H:%M}"

    def state_at(self, now: datetime | None = None) -> str:
        """due, overdue or done: the state people see (overdue is a matter of time)."""
        if self.status == RunStatus.DONE:
            return RunStatus.DONE
        moment = now or timezone.now()
        return "overdue" if moment >= self.overdue_at else RunStatus.DUE


class Outcome(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "na", _("Not applicable")


class InspectionResult(models.Model):
    """What one item of one run showed. A failed item opens one ticket, linked here."""

    run = models.ForeignKey(InspectionRun, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(InspectionItem, on_delete=models.PROTECT, related_name="results")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    impact = models.CharField(_("impact"), max_length=20, choices=Impact.choices, blank=True)
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices, blank=True)
    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, null=True, blank=True,
        related_name="inspection_result",
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["item__order", "item_id"]
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="unique_inspection_result")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.get_outcome_display()}"
