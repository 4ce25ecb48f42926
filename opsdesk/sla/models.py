"""Business calendars as admins configure them: working hours, holidays, per-date overrides.

The arithmetic lives in ``calendars`` (pure); ``selectors.get_work_calendar`` joins the two.
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module
from opsdesk.sla.calendars import WorkingTime
from opsdesk.sla.targets import Target, TargetUnit
from opsdesk.tickets.choices import Priority, SourceKind
from opsdesk.tickets.models import Ticket


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("%(zone)s is not a known time zone (e.g. Asia/Shanghai)."), params={"zone": value}
        ) from error


class BusinessCalendar(models.Model):
    """When SLA clocks run: around the clock, or working hours on working days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_24x7 = models.BooleanField(
        _("24×7"),
        default=False,
        help_text=_("The clock always runs; hours and holidays are ignored."),
    )
    day_start = models.TimeField(_("working day starts"), default=time(9))
    day_end = models.TimeField(_("working day ends"), default=time(18))
    lunch_start = models.TimeField(_("lunch break starts"), null=True, blank=True)
    lunch_end = models.TimeField(_("lunch break ends"), null=True, blank=True)
    use_statutory_holidays = models.BooleanField(
        _("Chinese statutory holidays"),
        default=True,
        help_text=_(
            "Rest on public holidays and work on make-up working days (调休). Off: Monday to "
            "Friday. Overrides below apply either way."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.CheckConstraint(
                condition=Q(day_start__lt=F("day_end")),
                name="sla_calendar_day_start_before_end",
                violation_error_message=_("The working day must start before it ends."),
            ),
            models.CheckConstraint(
                condition=Q(lunch_start__isnull=True, lunch_end__isnull=True)
                | Q(
                    # Spelled out: SQL lets a CHECK pass when a comparison with NULL is unknown.
                    lunch_start__isnull=False,
                    lunch_end__isnull=False,
                    lunch_start__gt=F("day_start"),
                    lunch_end__gt=F("lunch_start"),
                    lunch_end__lt=F("day_end"),
                ),
                name="sla_calendar_lunch_inside_day",
                violation_error_message=_(
                    "A lunch break needs a start and an end, inside the working day."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def day_length(self) -> timedelta:
        """Business time in an ordinary working day of this calendar."""
        return WorkingTime(day_start=self.day_start, day_end=self.day_end,
                           lunch_start=self.lunch_start, lunch_end=self.lunch_end,
                           is_24x7=self.is_24x7).day_length


class OverrideKind(models.TextChoices):
    HOLIDAY = "holiday", _("extra holiday")
    WORKING_DAY = "working_day", _("extra working day")


class CalendarOverride(models.Model):
    """One date worked or rested against the rules, e.g. next year's 调休 before the
    holiday library knows it, or a company day off."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=OverrideKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"],
                name="sla_override_one_per_date",
                violation_error_message=_("This calendar already has an override on this date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


class SlaPolicy(models.Model):
    """Response and resolution targets for the tickets it matches (first match by order).

    Empty conditions match anything, so the last policies are the per-priority defaults and
    more specific ones (a source, a module) go before them.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, null=True, blank=True
    )
    source_kind = models.CharField(
        _("source"), max_length=20, choices=SourceKind.choices, blank=True
    )
    module = models.ForeignKey(
        Module, verbose_name=_("module"), on_delete=models.CASCADE, null=True, blank=True
    )
    response_amount = models.DecimalField(
        _("response target"), max_digits=7, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    response_unit = models.CharField(
        _("unit"), max_length=20, choices=TargetUnit.choices, default=TargetUnit.MINUTES
    )
    resolution_amount = models.DecimalField(
        _("resolution target"), max_digits=7, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    resolution_unit = models.CharField(
        _("unit"), max_length=20, choices=TargetUnit.choices, default=TargetUnit.BUSINESS_DAYS,
        help_text=_("Business days are working days of the calendar, however long each one is; "
                    "minutes and hours are counted inside its working hours."),
    )
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT,
        null=True, blank=True, help_text=_("Empty: the clock runs 24×7."),
    )
    warning_fraction = models.FloatField(
        _("warn at"), default=0.75,
        help_text=_("Warn the assignee when this fraction of a target has run (0.75 = 75%)."),
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(warning_fraction__gt=0, warning_fraction__lt=1),
                name="sla_policy_warning_fraction_between_0_and_1",
                violation_error_message=_("Warn when a fraction between 0 and 1 of a target "
                                          "has run, e.g. 0.75."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def response(self) -> Target:
        return Target(self.response_amount, self.response_unit)

    @property
    def resolution(self) -> Target:
        return Target(self.resolution_amount, self.resolution_unit)

    @property
    def day_length(self) -> timedelta:
        return self.calendar.day_length if self.calendar else timedelta(days=1)

    @property
    def response_target(self) -> timedelta:
        """The response target as business time (a business day at the calendar's length)."""
        return self.response.business_time(self.day_length)

    @property
    def resolution_target(self) -> timedelta:
        return self.resolution.business_time(self.day_length)


class Clock(models.Model):
    """A ticket's SLA clocks: response (until first acknowledgement) and resolution (until
    verification), both paused while waiting on the submitter (a report sent back to her is
    not yet there to respond to).

    Each clock counts the time spent before its current stretch (``response_spent``,
    ``resolution_spent``) and since when it runs again (``response_since``,
    ``running_since``; None while paused or stopped).

    ``breach_at``, ``warn_at`` and ``next_check_at`` are the earliest such moments of the clocks
    still running, kept up to date on every change, so queues and the sweep are index ranges.

    A target in business days is counted in working days (``response_days``,
    ``resolution_days``); the time spent on it (``response_spent``, ``resolution_spent``) is
    then working days as days (``timedelta(days=1)`` a day). ``response_target``,
    ``resolution_target``, ``response_time`` and ``resolution_time`` are always business time,
    a working day counted at the calendar's length, which is what reports compare and chart.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="sla_clock"
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, related_name="+")
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, related_name="+"
    )
    warning_fraction = models.FloatField(default=0.75)
    response_target = models.DurationField()
    resolution_target = models.DurationField()
    response_days = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    resolution_days = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    started_at = models.DateTimeField()
    response_spent = models.DurationField(default=timedelta(0))
    response_since = models.DateTimeField(null=True)
    response_due_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True)
    response_time = models.DurationField(null=True, help_text=_("Business time to respond."))
    resolution_spent = models.DurationField(default=timedelta(0))
    running_since = models.DateTimeField(null=True)
    paused_at = models.DateTimeField(null=True)
    resolution_due_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    resolution_time = models.DurationField(null=True, help_text=_("Business time to resolve."))
    warn_at = models.DateTimeField(null=True)
    breach_at = models.DateTimeField(null=True)
    next_check_at = models.DateTimeField(null=True)
    # When the ticket's timer rings (None: no timer set): a next check that moves later keeps
    # it, and it sets the next one when it rings; one that moves earlier gets its own.
    timer_at = models.DateTimeField(null=True)
    # The latest moment the running clocks count to (their +100% thresholds), started_at when
    # none runs, None until first computed: a calendar change on a later date cannot move it.
    horizon_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["breach_at", "ticket"], name="sla_breach"),
            # The warned clocks with their breach: the at-risk count reads this index alone.
            models.Index(fields=["warn_at", "breach_at", "ticket"], name="sla_warn_breach"),
            models.Index(fields=["next_check_at"], name="sla_next_check"),
            # Dashboards: the clocks stopped in a date range (response and resolution times,
            # compliance), read from the index alone (a clock's row is wide: reading 500,000
            # of them for a year's MTTA took twice as long).
            models.Index(fields=["responded_at", "started_at", "ticket"],
                         name="sla_response_times"),
            models.Index(fields=["resolved_at", "started_at", "ticket"],
                         name="sla_resolution_times"),
        ]

    def __str__(self) -> str:
        return f"SLA {self.ticket_id}"


class Notice(models.Model):
    """A threshold that has fired for one clock of one ticket: the row makes it fire once,
    whatever restarts or retries happen."""

    class Threshold(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")
        SEVERE = "severe", _("Breached by 100%")

    class ClockKind(models.TextChoices):
        RESPONSE = "response", _("Response")
        RESOLUTION = "resolution", _("Resolution")

    # Its unique constraint leads with the ticket: no index of its own.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+",
                               db_index=False)
    clock = models.CharField(max_length=20, choices=ClockKind.choices)
    threshold = models.CharField(max_length=20, choices=Threshold.choices)
    fired_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clock", "threshold"], name="sla_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.clock} {self.threshold}"


class ScheduleReminder(models.Model):
    """The administrators were told, once, that the official schedule of ``year`` (holidays and
    make-up working days) is missing from the calendar library."""

    year = models.PositiveSmallIntegerField(unique=True)
    sent_at = models.DateTimeField()
    holidays = models.JSONField(default=list, help_text=_("The computed holidays listed."))

    def __str__(self) -> str:
        return str(self.year)
