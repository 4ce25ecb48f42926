"""People, their roles and preferences, the department's modules, and API tokens."""

from __future__ import annotations

import hashlib
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.roles import SEES_ALL_TICKETS, STAFF_ROLES, Role


class ProblemType(models.TextChoices):
    """The procedure's four kinds of cause (stage 2, classification)."""

    CODE = "code", _("Code")
    ENVIRONMENT = "environment", _("Environment")
    DATA = "data", _("Data")
    REQUIREMENT = "requirement", _("Requirement")


def roles_of(group_names: set[str], *, superuser: bool) -> frozenset[str]:
    """The role codes a user with these groups holds."""
    codes = group_names | {Role.ADMIN} if superuser else group_names
    return frozenset(codes & set(Role.values))


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("Empty: follow the browser."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")

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


class ModuleSupport(models.Model):
    """A support engineer responsible for one problem type in one module."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="support")
    problem_type = models.CharField(_("problem type"), max_length=20, choices=ProblemType.choices)
    engineer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="module_support")

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


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A machine credential. Only the SHA-256 of the token is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, help_text=_("First characters, to recognise it."))
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
