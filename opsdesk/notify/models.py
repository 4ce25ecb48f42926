"""Who wants to hear about what, and through which channel; and every delivery that was made.

A Delivery row is the record of one message to one channel of one recipient: it is written in
the same transaction as the change that caused it, so a notification is never lost between
the change and the worker, and its unique dedupe key makes a repeated notification a no-op.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.notify import endpoints
from opsdesk.notify.choices import ChannelKind, DeliveryStatus, NotificationKind
from opsdesk.notify.redaction import mask
from opsdesk.tickets.models import Ticket


def site_time_zone() -> str:
    # A callable, so that the migration does not freeze whatever OPSDESK_TIME_ZONE was.
    return str(settings.TIME_ZONE)


class Team(models.Model):
    """People reached together: through the team's own channels (a group chat robot), or, when
    it has none, each member through theirs."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        User, verbose_name=_("members"), related_name="notify_teams", blank=True
    )
    # A group chat has no single reader: the team's messages use its own language and zone.
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("Language of messages to the team's channels. Empty: the site default."),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default=site_time_zone)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """One way to reach a user or a team. ``target`` is an email address, or a robot's URL,
    which is a secret: shown masked, never logged."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="notify_channels",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="channels",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    target = models.CharField(
        _("address"), max_length=1000,
        help_text=_("An email address, or the robot's webhook URL (as its settings page shows "
                    "it, or as an apprise URL such as dingtalk://SECRET@TOKEN)."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    kinds = models.JSONField(
        _("notification kinds"), default=list, blank=True,
        help_text=_("The notifications this channel wants. Empty: all of them."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="notify_channel_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner} · {self.get_kind_display()} · {self.masked_target}"

    @property
    def owner(self) -> User | Team | None:
        return self.user or self.team

    @property
    def masked_target(self) -> str:
        """The target as it may be shown: email addresses whole, robot URLs masked."""
        return self.target if self.kind == ChannelKind.EMAIL else mask(self.target)

    def wants(self, kind: str) -> bool:
        return self.enabled and (not self.kinds or kind in self.kinds)

    def clean(self) -> None:
        if (self.user_id is None) == (self.team_id is None):
            raise ValidationError(_("A channel belongs to either a user or a team."))
        unknown = set(self.kinds or []) - set(NotificationKind.values)
        if unknown:
            raise ValidationError(
                {"kinds": _("Unknown notification kinds: %s.") % ", ".join(sorted(unknown))}
            )
        self.target = endpoints.normalise(self.kind, self.target)
        try:
            endpoints.validate(self.kind, self.target)
        except ValidationError as error:
            raise ValidationError({"target": error.messages}) from None


class Delivery(models.Model):
    """One message to one channel of one recipient, and what became of it."""

    notification_kind = models.CharField(
        _("notification"), max_length=30, choices=NotificationKind.choices
    )
    # The caller's identity of the notification ("sla:42:response:warning").
    notification_key = models.CharField(_("notification key"), max_length=200, db_index=True)
    # sha256 of (notification key, recipient, channel): the same message never goes twice.
    dedupe_key = models.CharField(max_length=64, unique=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    # Kept when the recipient is deleted: who it was for stays readable.
    recipient_name = models.CharField(_("recipient name"), max_length=150)
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="deliveries",
    )
    channel_kind = models.CharField(_("channel kind"), max_length=20, choices=ChannelKind.choices)
    # Email deliveries only; a robot's URL is read from its channel when sent, never copied.
    address = models.CharField(_("email address"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            # The retry sweep reads only the unfinished rows, however many were sent: a
            # finished delivery has no next attempt. (IS NOT NULL, not a status list, because
            # SQLite uses a partial index only when the query's terms imply its condition.)
            models.Index(
                fields=["next_attempt_at"], name="notify_delivery_due",
                condition=Q(next_attempt_at__isnull=False),
            ),
            models.Index(fields=["ticket", "id"], name="notify_delivery_ticket"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_notification_kind_display()} → {self.recipient_name} "
            f"({self.get_channel_kind_display()}): {self.get_status_display()}"
        )
