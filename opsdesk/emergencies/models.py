"""Who may declare an emergency and who watches them (data, edited in the admin), and the
emergency declared on a ticket."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify.models import Team
from opsdesk.tickets.models import Ticket


def default_declaring_roles() -> list[str]:
    return [Role.DUTY, Role.OWNER, Role.HEAD, Role.ADMIN]


class EmergencySettings(models.Model):
    """One row: the roles that may declare (besides people granted the permission), and the
    watchers who hear every status update."""

    declaring_roles = models.JSONField(
        _("roles that may declare"), default=default_declaring_roles, blank=True,
        help_text=_('Role codes, e.g. ["duty", "owner", "head", "admin"]. People outside '
                    'them may be given the "Can declare emergencies" permission.'),
    )
    watchers_team = models.ForeignKey(
        Team, verbose_name=_("watching team"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
        help_text=_("Hears every status update (through its own channels or its members')."),
    )
    watchers = models.ManyToManyField(
        User, verbose_name=_("watchers"), blank=True, related_name="+",
        help_text=_("People who hear every status update."),
    )

    class Meta:
        verbose_name = _("emergency settings")
        verbose_name_plural = _("emergency settings")

    def __str__(self) -> str:
        return str(_("Emergency settings"))


class Emergency(models.Model):
    """An emergency declared on a ticket: it was made urgent, and its stakeholders are kept
    informed by status updates (events on the ticket's timeline)."""

    ticket = models.OneToOneField(Ticket, verbose_name=_("ticket"),
                                  on_delete=models.PROTECT, related_name="emergency")
    reason = models.TextField(_("reason"))
    declared_by = models.ForeignKey(User, verbose_name=_("declared by"),
                                    on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    from_scratch = models.BooleanField(
        _("declared from scratch"), default=False,
        help_text=_("Declared as a new ticket rather than on an existing one."),
    )
    last_update_at = models.DateTimeField(_("last status update"), null=True, blank=True)
    next_update_at = models.DateTimeField(_("next status update due"), null=True, blank=True)

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("emergency")
        verbose_name_plural = _("emergencies")
        permissions = [("declare_emergency", _("Can declare emergencies"))]

    def __str__(self) -> str:
        return str(self.ticket)
