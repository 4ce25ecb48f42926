"""What became of each mail: kept once per Message-ID, so a mail delivered twice (an IMAP
fetch repeated after a crash, a mail server retrying the pipe) never opens a second ticket,
and so a reply to a mail that opened a ticket finds that ticket."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.tickets.models import Comment, Ticket


class MailOutcome(models.TextChoices):
    TICKET = "ticket", _("Opened a ticket")
    COMMENT = "comment", _("Commented on a ticket")
    IGNORED = "ignored", _("Ignored (sent by a machine)")


class MailMessage(models.Model):
    inbound = models.ForeignKey("intake.InboundMessage", verbose_name=_("inbound message"),
                                on_delete=models.PROTECT,
                                related_name="mails")
    identity = models.CharField(
        _("identity"), max_length=255, unique=True,
        help_text=_("The Message-ID, or a digest of a message without one."),
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    sender = models.CharField(_("sender"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=MailOutcome.choices)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT,
                               null=True, blank=True,
                               related_name="+")
    comment = models.ForeignKey(Comment, verbose_name=_("comment"), on_delete=models.PROTECT,
                                null=True, blank=True,
                                related_name="+")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        app_label = "intake"
        verbose_name = _("mail")
        verbose_name_plural = _("mails")

    def __str__(self) -> str:
        return f"{self.identity} {self.outcome}"
