"""What the web workspace keeps for its users: saved views and failed sign-ins."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User


class SavedView(models.Model):
    """A person's named queue: the workspace's query string (queue and filters), replayed."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_view_name")
        ]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


class SignInFailure(models.Model):
    """One failed sign-in, kept a while to throttle password guessing (across server workers,
    which an in-process counter would not be)."""

    # Failures older than this neither count nor are kept.
    WINDOW = timedelta(minutes=15)

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["address", "at"], name="signin_failure_address")]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
