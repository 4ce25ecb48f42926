"""A request from another department, as its form asked for it; the work is its ticket."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.tickets.models import Ticket


class CrossDepartmentRequest(models.Model):
    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT,
        related_name="cross_department_request"
    )
    department = models.CharField(_("requesting department"), max_length=100)
    needed = models.TextField(_("what is needed"))
    business_reason = models.TextField(_("business reason"))
    desired_date = models.DateField(_("desired date"))
    contact = models.CharField(_("contact"), max_length=200)
    requested_by = models.ForeignKey(User, verbose_name=_("requested by"),
                                     on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("cross-department request")
        verbose_name_plural = _("cross-department requests")

    def __str__(self) -> str:
        return f"{self.department}: {self.ticket.title}"
