"""Assignment rules (data, edited in the admin, evaluated in order) and the duty roster."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module, ProblemType, User, raise_problems, role_problem
from opsdesk.accounts.roles import ASSIGNABLE_ROLES, Role
from opsdesk.tickets.choices import Priority, SourceKind

PRIORITY_CODES = [priority.code for priority in Priority]


def _unknown_code(value: object, known: list[str]) -> ValidationError | None:
    """What is wrong with a list of codes that should come from ``known``: the first unknown
    one is named, with the codes that exist."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        return ValidationError(_('A list of codes, e.g. ["%(example)s"].'), code="not_list",
                               params={"example": known[0]})
    for code in value:
        if code not in known:
            return ValidationError(_("There is no %(code)s; the codes are %(known)s."),
                                   code="unknown", params={"code": code, "known": ", ".join(known)})
    return None


class AssignTo(models.TextChoices):
    MODULE_OWNER = "module_owner", _("The module's owner")
    SUPPORT_ENGINEER = "support_engineer", _(
        "A support engineer for the problem type (least loaded, then round-robin)"
    )
    USER = "user", _("A named person")
    DUTY_TRIAGE = "duty_triage", _("Leave for the duty engineer to triage")


class RoutingRule(models.Model):
    """When a new ticket matches every non-empty condition, assign it as the rule says.

    Empty conditions match anything; the first enabled matching rule (lowest order) wins.
    """

    name = models.SlugField(_("name"), max_length=60, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    priorities = models.JSONField(
        _("priorities"), default=list, blank=True,
        help_text=_('Priority codes, e.g. ["urgent", "high"]; empty: any.'),
    )
    source_kinds = models.JSONField(
        _("sources"), default=list, blank=True,
        help_text=_('Source codes, e.g. ["alert"]; empty: any.'),
    )
    problem_types = models.JSONField(
        _("problem types"), default=list, blank=True,
        help_text=_('Problem type codes, e.g. ["data"]; empty: any, even not yet known.'),
    )
    modules = models.ManyToManyField(Module, verbose_name=_("modules"), blank=True)
    requires_module = models.BooleanField(
        _("only tickets with a module"), default=False,
        help_text=_("Match only tickets whose affected module is known."),
    )
    assign_to = models.CharField(_("assign to"), max_length=20, choices=AssignTo.choices)
    user = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.PROTECT, null=True, blank=True,
        help_text=_("For 'a named person'."),
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        raise_problems({"priorities": _unknown_code(self.priorities, PRIORITY_CODES),
                        "source_kinds": _unknown_code(self.source_kinds, SourceKind.values),
                        "problem_types": _unknown_code(self.problem_types, ProblemType.values),
                        "user": self._person_problem()})

    def _person_problem(self) -> ValidationError | None:
        if self.assign_to == AssignTo.USER and not self.user_id:
            return ValidationError(_("Name the person this rule assigns to."), code="required")
        if self.assign_to != AssignTo.USER and self.user_id:
            return ValidationError(_("Only a rule that assigns to a named person names one; "
                                     "clear this field."), code="unused")
        # The person becomes the ticket's assignee, which only these roles may be.
        return role_problem(self.user, sorted(ASSIGNABLE_ROLES)) if self.user_id else None


class DutyShift(models.Model):
    """A period during which one duty engineer (A) is on call, with a backup."""

    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    engineer = models.ForeignKey(
        User, verbose_name=_("duty engineer"), on_delete=models.PROTECT, related_name="+"
    )
    backup = models.ForeignKey(
        User, verbose_name=_("backup"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="shift_period")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="shift_ends_after_start",
                violation_error_message=_("A shift ends after it starts."),
            )
        ]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")

    def __str__(self) -> str:
        return f"{self.engineer} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    def clean(self) -> None:
        raise_problems({
            "engineer": role_problem(self.engineer, [Role.DUTY]) if self.engineer_id else None,
            "backup": role_problem(self.backup, [Role.DUTY]) if self.backup_id else None,
        })
