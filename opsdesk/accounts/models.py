"""People, their roles and preferences, the department's modules, and API tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.roles import SEES_ALL_TICKETS, STAFF_ROLES, Role

_ROLE_CODES = frozenset(Role.values)


class ProblemType(models.TextChoices):
    """The procedure's four kinds of cause (stage 2, classification)."""

    CODE = "code", _("Code")
    ENVIRONMENT = "environment", _("Environment")
    DATA = "data", _("Data")
    REQUIREMENT = "requirement", _("Requirement")


def roles_of(group_names: set[str], *, superuser: bool) -> frozenset[str]:
    """The role codes a user with these groups holds."""
    codes = group_names | {Role.ADMIN} if superuser else group_names
    return frozenset(codes & _ROLE_CODES)


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    # When a one-time sign-in link was last mailed: at most one per SIGN_IN_LINK_INTERVAL.
    sign_in_link_sent_at = models.DateTimeField(_("sign-in link sent at"), null=True,
                                                blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # Mail intake finds the sender by address, whatever its case (get_user_by_email).
        indexes = [models.Index(Lower("email"), name="user_email_lower")]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        """The codes of the roles this user holds (cached for the request)."""
        # groups.all() uses a prefetch when the selector made one.
        return roles_of({group.name for group in self.groups.all()}, superuser=self.is_superuser)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def sees_all_tickets(self) -> bool:
        return bool(self.roles & SEES_ALL_TICKETS)

    @property
    def is_department_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def contact(self) -> str:
        return ", ".join(part for part in (self.phone, self.email) if part)


def role_problem(user: User | None, roles: Iterable[str]) -> ValidationError | None:
    """Why ``user`` may not fill a place only holders of one of ``roles`` may fill (a module's
    owner, the duty roster, a routing rule's assignee), naming the person and the role in the
    reader's language; None if they may. Models check it in ``clean``, which every door (the
    admin, a service calling ``full_clean``) runs."""
    if user is None:
        return None
    if not user.is_active:
        return ValidationError(_("%(person)s's account is deactivated."), code="inactive",
                               params={"person": user})
    roles = list(roles)
    if not user.has_role(*roles):
        return ValidationError(
            _("%(person)s does not hold the role %(roles)s."), code="role",
            params={"person": user,
                    "roles": " / ".join(str(Role(role).label) for role in roles)})
    return None


def raise_problems(problems: dict[str, ValidationError | None]) -> None:
    """Raise the problems found, each on its field, if there are any."""
    found = {name: problem for name, problem in problems.items() if problem is not None}
    if found:
        raise ValidationError(found)


class Module(models.Model):
    """A part of the company's systems (用户模块, 支付模块) with the engineer who owns it."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_modules"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("module")
        verbose_name_plural = _("modules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.owner_id:
            raise_problems({"owner": role_problem(self.owner, [Role.OWNER])})


class ModuleSupport(models.Model):
    """A support engineer responsible for one problem type in one module."""

    module = models.ForeignKey(Module, verbose_name=_("module"), on_delete=models.CASCADE,
                               related_name="support")
    problem_type = models.CharField(_("problem type"), max_length=20, choices=ProblemType.choices)
    engineer = models.ForeignKey(User, verbose_name=_("support engineer"),
                                 on_delete=models.CASCADE, related_name="module_support")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["module", "problem_type", "engineer"], name="unique_module_support"
            )
        ]
        verbose_name = _("module support engineer")
        verbose_name_plural = _("module support engineers")

    def __str__(self) -> str:
        return f"{self.module} / {self.get_problem_type_display()} / {self.engineer}"

    def clean(self) -> None:
        if self.engineer_id:
            raise_problems({"engineer": role_problem(self.engineer, [Role.SUPPORT])})


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A machine credential. Only the SHA-256 of the token is stored; the token is shown once."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("starts with"), max_length=12,
                              help_text=_("First characters, to recognise it."))
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
