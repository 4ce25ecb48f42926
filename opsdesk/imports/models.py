"""Which ticket each imported issue became: the memory that makes an import idempotent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.tickets.models import Ticket


class System(models.TextChoices):
    """The trackers opsdesk reads exports of."""

    JIRA = "jira", "Jira"
    ZENTAO = "zentao", _("ZenTao")


class ImportedTicket(models.Model):
    """Issue ``external_key`` of ``system`` was imported as ``ticket``. An issue is imported
    once: a rerun of the same export (or of a later one that holds it too) skips it."""

    system = models.CharField(_("system"), max_length=20, choices=System.choices)
    external_key = models.CharField(_("key there"), max_length=100)
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="imported_as",
                                  verbose_name=_("ticket"))
    file_name = models.CharField(_("export file"), max_length=255)
    line = models.PositiveIntegerField(_("line in the file"))
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    # What the export said that has no place on the ticket: its own status, priority,
    # resolution, and the people as it named them (kept when they match nobody here).
    original = models.JSONField(_("as exported"), default=dict)

    class Meta:
        verbose_name = _("imported ticket")
        verbose_name_plural = _("imported tickets")
        constraints = [
            models.UniqueConstraint(fields=["system", "external_key"],
                                    name="imported_once_per_system"),
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()} {self.external_key}"
