"""Who wants to hear about what, and through which channel (with quiet hours and the tickets
they follow); every delivery that was made; and the one-click verification links mailed with a
fix.

A Delivery row is the record of one message to one channel of one recipient: it is written in
the same transaction as the change that caused it, so a notification is never lost between
the change and the worker, and its unique dedupe key makes a repeated notification a no-op.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.notify import endpoints
from opsdesk.notify.choices import ChannelKind, DeliveryStatus, NotificationKind, WatchTopic
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
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="notify_channel_one_owner",
                violation_error_message=_("A channel belongs to a person or to a team, not both."),
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


class Preferences(models.Model):
    """A person's choices beyond their channels: which kinds the mail to their account address
    carries when they have set up no channel, and quiet hours (in their own time zone) during
    which messages that are not urgent wait."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, primary_key=True,
        related_name="notify_preferences",
    )
    # None: every kind (nobody has to opt in to hearing about their own tickets).
    email_kinds = models.JSONField(_("kinds mailed to the account address"), null=True,
                                   blank=True)
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def quiet_hours(self) -> tuple[time, time] | None:
        """(start, end) on the person's wall clock, or None."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return None
        return self.quiet_start, self.quiet_end

    def mails(self, kind: str) -> bool:
        return self.email_kinds is None or kind in self.email_kinds

    def clean(self) -> None:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationError(_("Quiet hours need both a start and an end."))
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValidationError(_("Quiet hours cannot start and end at the same time."))
        unknown = set(self.email_kinds or []) - set(NotificationKind.values)
        if unknown:
            raise ValidationError(
                {"email_kinds": _("Unknown notification kinds: %s.") % ", ".join(sorted(unknown))}
            )


class Watch(models.Model):
    """Someone following a ticket they may see, for the topics they chose."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watches")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="watches")
    topics = models.JSONField(_("topics"), default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("watch")
        verbose_name_plural = _("watches")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="notify_watch_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.ticket_id}"

    def wants(self, topic: WatchTopic) -> bool:
        return topic in self.topics


class VerificationLink(models.Model):
    """The submitter's one-click answer to a fix sent for verification: "confirmed" or "not
    fixed", by a signed link in the mail that needs no password. One row per time a fix is sent
    for verification (``round``: the ticket's version then); the links of a row work once (the
    first answer uses both) and only while the ticket waits for that very verification."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    round = models.PositiveIntegerField()
    # The submitter: her account, or the address of an external submitter.
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="+")
    address = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "round"], name="notify_verification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.round}"


class Delivery(models.Model):
    """One message to one channel of one recipient, and what became of it."""

    notification_kind = models.CharField(
        _("notification"), max_length=30, choices=NotificationKind.choices
    )
    # The caller's identity of the notification ("sla:42:response:warning").
    notification_key = models.CharField(_("notification key"), max_length=200, db_index=True)
    # sha256 of (notification key, recipient, channel): the same message never goes twice.
    dedupe_key = models.CharField(_("dedupe key"), max_length=64, unique=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False,  # the same as notify_delivery_ticket
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
    # A fix to verify: the body's link marks become this row's signed links when it is sent,
    # so no usable link is ever stored or shown in the admin.
    verification = models.ForeignKey(
        VerificationLink, verbose_name=_("verification link"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+"
    )
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
            # /metrics counts failed and abandoned deliveries per channel at every scrape.
            models.Index(fields=["status", "channel_kind"], name="notify_delivery_status"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_notification_kind_display()} → {self.recipient_name} "
            f"({self.get_channel_kind_display()}): {self.get_status_display()}"
        )


class Notice(models.Model):
    """One notification as its recipient finds it in opsdesk's own list, whatever channels
    carried it (or none did): one row per person and notification, read or not."""

    # Indexed below, first in both of the list's indexes.
    recipient = models.ForeignKey(User, verbose_name=_("recipient"), on_delete=models.CASCADE,
                                  related_name="+", db_index=False)
    # A NotificationKind; without choices, so that a new kind needs no migration of this table.
    kind = models.CharField(_("notification"), max_length=30)
    # The notification's identity (Delivery.notification_key): told twice, listed once.
    key = models.CharField(_("notification key"), max_length=200)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.SET_NULL,
                               null=True, blank=True, related_name="+")
    actor = models.ForeignKey(User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    # As the recipient was told it; the list shows it for notifications about no ticket (those
    # about one are named by their kind and the ticket, in the reader's language when read).
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("in-app notification")
        verbose_name_plural = _("in-app notifications")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "key"], name="notify_notice_once"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notify_notice_list"),
            # The unread count in every page's navigation, and a ticket page's marking its
            # notices read, read only the unread rows (read_at IS NULL is an equality to
            # SQLite's planner, which did not pick a partial index over the plain one).
            models.Index(fields=["recipient", "read_at", "ticket"], name="notify_notice_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.label} → {self.recipient_id}"

    @property
    def label(self) -> str:
        """What kind of notification it is, in the active language."""
        try:
            return str(NotificationKind(self.kind).label)
        except ValueError:
            return self.kind
