"""The ticket, its plans, work log, comments and the append-only timeline."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.tickets.choices import (
    STILL_OPEN,
    Channel,
    Impact,
    LinkKind,
    PlanFit,
    PlanKind,
    Priority,
    SourceKind,
    Status,
    StepKind,
    StepOutcome,
    Urgency,
)


class Ticket(models.Model):
    # Registration (stage 1).
    title = models.CharField(_("title"), max_length=200)
    submitter = models.ForeignKey(
        User, verbose_name=_("submitter"), on_delete=models.PROTECT,
        related_name="submitted_tickets", null=True, blank=True,
        db_index=False,  # the same as ticket_submitter (submitter, id)
    )
    submitter_name = models.CharField(_("submitter name"), max_length=100)
    submitter_department = models.CharField(_("submitter department"), max_length=100, blank=True)
    submitter_contact = models.CharField(_("submitter contact"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    description = models.TextField(_("description"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    steps_to_reproduce = models.TextField(_("steps to reproduce"), blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    impact_scope = models.TextField(_("impact scope"), blank=True)
    source_kind = models.CharField(
        _("source"), max_length=20, choices=SourceKind.choices, default=SourceKind.USER_REPORT
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    alert_host = models.CharField(_("alert source host/IP"), max_length=255, blank=True)
    alert_rule = models.CharField(_("alert rule"), max_length=255, blank=True)
    alert_level = models.CharField(_("alert level"), max_length=50, blank=True)
    alert_at = models.DateTimeField(_("alert time"), null=True, blank=True)
    alert_symptom = models.TextField(_("first symptom"), blank=True)
    impact = models.CharField(_("impact"), max_length=20, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    # Workflow.
    status = models.CharField(
        _("status"), max_length=30, choices=Status.choices, default=Status.NEW
    )
    status_before_waiting = models.CharField(_("status before waiting"), max_length=30,
                                             choices=Status.choices, blank=True)
    assignee = models.ForeignKey(
        User, verbose_name=_("assignee"), on_delete=models.PROTECT,
        related_name="assigned_tickets", null=True, blank=True,
    )
    collaborators = models.ManyToManyField(
        User, verbose_name=_("collaborators"), related_name="collaborating_tickets", blank=True
    )

    # Analysis and classification (stage 2).
    problem_type = models.CharField(
        _("problem type"), max_length=20, choices=ProblemType.choices, blank=True
    )
    module = models.ForeignKey(
        Module, verbose_name=_("module"), on_delete=models.PROTECT, null=True, blank=True
    )
    estimate_minutes = models.PositiveIntegerField(
        _("estimated handling time (minutes)"), null=True, blank=True
    )
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    analysis_notes = models.TextField(_("analysis notes"), blank=True)

    # Handling (stage 3).
    current_plan = models.ForeignKey(
        "Plan", verbose_name=_("current plan"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+"
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # Where the work stands, told to the submitter (a progress update, a plan after a failed
    # fix): the next step and when it should be done.
    next_step = models.TextField(_("next step"), blank=True)
    expected_completion_at = models.DateTimeField(_("expected completion"), null=True, blank=True)
    # The overdue moment the assignee was last asked about (the worker asks once per moment).
    progress_requested_for = models.DateTimeField(_("progress requested for"), null=True,
                                                  blank=True)

    # Result feedback (stage 4).
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    time_taken_minutes = models.PositiveIntegerField(
        _("time taken (minutes)"), null=True, blank=True
    )
    prevention = models.TextField(_("prevention"), blank=True)
    verification_evidence = models.TextField(_("verification evidence"), blank=True)
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0)
    # Since when the fix waits for the submitter's verification, and how many reminders she
    # has had since (the worker reminds, then closes: tickets/follow_ups.py).
    verification_requested_at = models.DateTimeField(_("verification requested at"), null=True,
                                                     blank=True)
    verification_reminders = models.PositiveSmallIntegerField(_("verification reminders"),
                                                              default=0)
    # When the worker next has something to do for that fix (a reminder, the closure): its
    # query reads only the tickets due, however many wait (effects.next_verification_follow_up).
    next_follow_up_at = models.DateTimeField(_("next follow-up at"), null=True, blank=True)

    # Closure (stage 5).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Optimistic concurrency: every write compares and increments it.
    version = models.PositiveIntegerField(_("version"), default=1)
    # False from filing until it is dispatched: routed, its SLA clocks started, people told
    # (tickets/dispatch.py; by the worker a moment later unless OPSDESK_DISPATCH=inline).
    dispatched = models.BooleanField(_("dispatched"), default=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # Keyset lists (newest first): a status alone, a status and a priority, and the
            # priority order (most urgent first, newest first within a priority), each an index
            # range read in order, with no sort of the matching rows. bench/README.md.
            models.Index(fields=["status", "id"], name="ticket_status"),
            models.Index(fields=["status", "priority", "id"], name="ticket_status_prio"),
            models.Index(fields=["priority", "-id"], name="ticket_prio_newest"),
            models.Index(fields=["assignee", "status", "id"], name="ticket_assignee"),
            models.Index(fields=["module", "status", "id"], name="ticket_module"),
            models.Index(fields=["submitter", "id"], name="ticket_submitter"),
            models.Index(fields=["source_kind", "id"], name="ticket_source"),
            # The open queues, newest first: every open ticket, and each person's ("mine")
            # or nobody's. Only open tickets are in them, so a page reads its 50 entries
            # whatever the archive's size; the (status, id) index served a list of states by
            # reading every open ticket and sorting them (127 ms at 20,000 open tickets).
            # Queries state STILL_OPEN to use them (tickets/selectors.py).
            models.Index(fields=["id"], condition=STILL_OPEN, name="ticket_open"),
            models.Index(fields=["assignee", "id"], condition=STILL_OPEN,
                         name="ticket_open_assignee"),
            # Open tickets of a priority ("urgent, still open"): the (priority, id) index read
            # every urgent ticket of the archive for the few open ones (20 against 3 ms at
            # 30,000 tickets).
            models.Index(fields=["priority", "id"], condition=STILL_OPEN,
                         name="ticket_open_prio"),
            # Dashboards: the tickets submitted in a date range, counted by day and source
            # from the index alone.
            models.Index(fields=["submitted_at", "source_kind", "module"],
                         name="ticket_submitted"),
            # The head's review: the same module and problem type again and again, and the
            # same alert rule on the same host (reports/recurring.py), counted from the index
            # alone and each group's newest tickets read in index order.
            models.Index(fields=["module", "problem_type", "submitted_at"],
                         name="ticket_recurring"),
            models.Index(fields=["alert_rule", "alert_host", "submitted_at"],
                         condition=models.Q(alert_rule__gt=""), name="ticket_alert_recurring"),
            # The worker's verification follow-ups: the fixes due, earliest first.
            models.Index(fields=["status", "next_follow_up_at"], name="ticket_follow_up"),
            # The dispatcher's queue: only the few tickets waiting for it are in the index.
            models.Index(fields=["id"], condition=models.Q(dispatched=False),
                         name="ticket_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return self.key_of(self.pk)

    @staticmethod
    def key_of(pk: int) -> str:
        """The human-readable key of the ticket ``pk`` (``OPS-1042``)."""
        return f"{settings.OPSDESK_TICKET_KEY_PREFIX}-{pk}"

    @property
    def priority_code(self) -> str:
        return Priority(self.priority).code

    @property
    def is_read_only(self) -> bool:
        return self.status in (Status.CLOSED, Status.ARCHIVED)


class Plan(models.Model):
    """One version of a ticket's solution plan; a revision is a new row, never an edit."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="plans")
    number = models.PositiveIntegerField()
    kind = models.CharField(_("plan kind"), max_length=30, choices=PlanKind.choices)
    summary = models.TextField(_("plan"))
    fix_version = models.CharField(_("fix version"), max_length=50, blank=True)
    release_at = models.DateTimeField(_("release time"), null=True, blank=True)
    delivery_schedule = models.TextField(_("delivery schedule"), blank=True)
    changes_code = models.BooleanField(_("changes code"), default=False)
    major_environment_change = models.BooleanField(_("major environment change"), default=False)
    needs_other_department = models.BooleanField(_("needs another department"), default=False)
    # How the plan's kind fits the problem's type by the table of tickets/risk.py, and the
    # assignee's reason when it does not obviously fit (shown to the department head).
    fit = models.CharField(_("fit to the problem type"), max_length=20, choices=PlanFit.choices,
                           default=PlanFit.FITS)
    fit_reason = models.TextField(_("why this plan fits the problem"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "number"], name="unique_plan_number")
        ]

    def __str__(self) -> str:
        return f"{self.ticket.key} plan {self.number}"

    @property
    def needs_approval(self) -> bool:
        """The procedure: code changes, major environment changes and cross-department work;
        and, by the table, a plan that does not fit the problem's type without a reason."""
        return bool(self.risk_flags)

    @property
    def risk_flags(self) -> list[str]:
        flags = {
            "changes_code": self.changes_code,
            "major_environment_change": self.major_environment_change,
            "needs_other_department": self.needs_other_department,
            "does_not_fit_problem": self.fit == PlanFit.NEEDS_APPROVAL,
        }
        return [name for name, raised in flags.items() if raised]


class WorkLogStep(models.Model):
    """A step executed while handling, recorded verbatim (the exact command or SQL)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="work_log")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices)
    command = models.TextField(_("command"))
    target = models.CharField(_("where it ran"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=StepOutcome.choices)
    output = models.TextField(_("output"), blank=True)
    executed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    executed_at = models.DateTimeField(_("executed at"), default=timezone.now)
    # How long the step took whoever executed it: the time taken is summed from these. None
    # for steps recorded before steps carried their duration.
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True,
                                                   blank=True)
    # Commands, hosts and output are the department's business: only department staff see a
    # step unless whoever recorded it chose to show it to the submitter.
    internal = models.BooleanField(_("internal"), default=True)

    class Meta:
        ordering = ["executed_at", "id"]

    def __str__(self) -> str:
        return self.command[:80]


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    # None for someone outside opsdesk (an external submitter replying by mail), named below.
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True,
                               blank=True)
    author_name = models.CharField(_("from"), max_length=255, blank=True)
    body = models.TextField(_("comment"))
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:80]


def _attachment_path(instance: Attachment, filename: str) -> str:
    # Stored under a random name: the user's file name (any script, any characters) is kept
    # in the database only, so nothing a user sends becomes a path on disk.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on a ticket: uploaded in the browser or the API, or taken from a mail."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=_attachment_path, max_length=255)
    internal = models.BooleanField(_("internal"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class TimelineQuerySet(models.QuerySet["TimelineEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The timeline is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The timeline is append-only.")


class TimelineEvent(models.Model):
    """One thing that happened to a ticket. Append-only: never updated, never deleted."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        TRANSITION = "transition", _("Status changed")
        FIELDS_CHANGED = "fields_changed", _("Fields changed")
        PLAN = "plan", _("Plan proposed")
        APPROVAL = "approval", _("Plan approved")
        REJECTION = "rejection", _("Plan rejected")
        WORK_LOG = "work_log", _("Step executed")
        COMMENT = "comment", _("Comment")
        ESCALATION = "escalation", _("Escalated")
        VERIFICATION = "verification", _("Verification")
        ROUTING = "routing", _("Routing")
        SLA = "sla", _("SLA")
        NOTIFICATION = "notification", _("Notification")
        ALERT = "alert", _("Alert occurrence")
        ATTACHMENT = "attachment", _("Attachment")
        EMERGENCY = "emergency", _("Emergency declared")
        STATUS_UPDATE = "status_update", _("Status update")
        RATING = "rating", _("Support rated")
        LINKED = "linked", _("Linked")
        UNLINKED = "unlinked", _("Link removed")
        REVIEW = "review", _("Post-incident review")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="timeline",
                               db_index=False)  # the same as timeline_ticket (ticket, id)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(User, verbose_name=_("by"), on_delete=models.PROTECT, null=True,
                              related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    data = models.JSONField(_("details"), default=dict)
    # Internal events (internal notes, routing and notification details) are for staff only.
    internal = models.BooleanField(_("internal"), default=False)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="timeline_ticket")]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The timeline is append-only.")


class TicketLink(models.Model):
    """``source`` is ``kind`` ``target``: OPS-12 is a duplicate of (related to, caused by, a
    recurrence of) OPS-7. Both tickets show it, each in its own direction.

    Two tickets have at most one link of a kind, whichever way it points: "related to" reads
    the same both ways, and the reverse of a directed kind would contradict it (each the
    other's duplicate, cause or recurrence). The pair is unique in the database, taken in
    order of id, so two people linking it from either side at once leave one link."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("link"), max_length=20, choices=LinkKind.choices)
    # None: opsdesk linked them itself (a fault that fired again after its ticket closed).
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Least("source", "target"), Greatest("source", "target"),
                                    "kind", name="unique_link_pair"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")),
                                   name="link_not_to_itself"),
        ]
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class SupportRating(models.Model):
    """The submitter's rating of the support they received, once per ticket, after closure."""

    SCORES = range(1, 6)

    ticket = models.OneToOneField(Ticket, verbose_name=_("ticket"),
                                  on_delete=models.CASCADE, related_name="rating")
    rated_by = models.ForeignKey(User, verbose_name=_("rated by"),
                                 on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5),
                                   name="rating_score_1_to_5",
                                   violation_error_message=_("A rating is from 1 to 5 stars."))
        ]
        verbose_name = _("support rating")
        verbose_name_plural = _("support ratings")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class PriorityRule(models.Model):
    """One cell of the impact × urgency matrix that gives a ticket its priority."""

    impact = models.CharField(_("impact"), max_length=20, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="unique_priority_cell")
        ]
        verbose_name = _("priority matrix cell")
        verbose_name_plural = _("priority matrix")

    def __str__(self) -> str:
        return f"{self.get_impact_display()} × {self.get_urgency_display()}"
