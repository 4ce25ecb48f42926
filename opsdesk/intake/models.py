"""Integrations (each with its own secret), every inbound payload kept raw before it is used,
the alerts seen so far and the webhook reports received, so that a repeat updates its ticket
instead of opening another."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.intake.alerts import zabbix
from opsdesk.intake.alerts.alertmanager import DEDUPE_BY
from opsdesk.intake.alerts.notices import PRIORITIES
from opsdesk.intake.webhooks import mapping
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.models import Ticket


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    ZABBIX = "zabbix", _("Zabbix")
    WEBHOOK = "webhook", _("Generic webhook")


class Integration(models.Model):
    """One sender: its secret (stored as a SHA-256 digest, shown once) and its options."""

    name = models.SlugField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=IntegrationKind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    secret_digest = models.CharField(_("secret digest"), max_length=64, editable=False)
    secret_prefix = models.CharField(_("secret starts with"), max_length=12, editable=False)
    options = models.JSONField(
        _("options"), default=dict, blank=True,
        help_text=_("Per-kind settings, e.g. {\"dedupe_by\": \"fingerprint\", "
                    "\"auto_close_resolved\": true, \"severity_priority\": {...}}; for a "
                    "generic webhook its mapping: {\"fields\": {...}, \"constants\": {...}, "
                    "\"value_maps\": {...}, \"idempotency_key\": \"...\", "
                    "\"signature_header\": \"...\"} (see the README)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        """Options an admin typed: catch a typo here rather than at the next storm."""
        options = self.options
        if not isinstance(options, dict):
            raise ValidationError({"options": _("Options must be a JSON object.")})
        problems = []
        if options.get("dedupe_by", "fingerprint") not in DEDUPE_BY:
            problems.append(_("dedupe_by must be one of: %s.") % ", ".join(DEDUPE_BY))
        if not isinstance(options.get("auto_close_resolved", True), bool):
            problems.append(str(_("auto_close_resolved must be true or false.")))
        table = options.get("severity_priority", {})
        if not isinstance(table, dict) or any(v not in PRIORITIES for v in table.values()):
            problems.append(_("severity_priority maps severities to one of: %s.")
                            % ", ".join(PRIORITIES))
        if self.kind == IntegrationKind.WEBHOOK:
            problems += mapping.mapping_problems(options)
        if self.kind == IntegrationKind.ZABBIX:
            problems += zabbix.option_problems(options)
        if problems:
            raise ValidationError({"options": problems})

    def secret_matches(self, presented: str) -> bool:
        digest = hashlib.sha256(presented.encode()).hexdigest()
        return hmac.compare_digest(digest, self.secret_digest)


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    REJECTED = "rejected", _("Rejected")
    # Some alerts of a notification taken, others refused (each with its reason in the result):
    # a replay takes up only the refused ones.
    PARTLY_REJECTED = "partly_rejected", _("Partly rejected")
    FAILED = "failed", _("Failed")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundMessage(models.Model):
    """A payload exactly as it arrived, stored before anything is done with it, so nothing
    acknowledged is ever lost and what could not be used can be inspected and replayed."""

    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.PROTECT, null=True,
        related_name="messages"
    )
    channel = models.CharField(_("channel"), max_length=20)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    remote_addr = models.CharField(_("from"), max_length=64, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    body = models.BinaryField(_("payload"))
    status = models.CharField(
        _("status"), max_length=20, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    error = models.TextField(_("problem"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "id"], name="inbound_status"),
            # /metrics counts every payload by channel and status from this index alone (a
            # scan of the table reads every payload: 340 ms at 200,000 of them).
            models.Index(fields=["channel", "status"], name="inbound_channel_status"),
        ]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} {self.status}"

    def finish(self, status: str, *, error: str = "", result: dict[str, Any] | None = None
               ) -> None:
        """Record what became of the message (with its attempts), now."""
        self.status, self.error = status, error
        self.result = result or {}
        self.processed_at = timezone.now()
        self.save(update_fields=["status", "error", "result", "processed_at", "attempts"])


class Alert(models.Model):
    """One fault as its monitoring system identifies it (fingerprint, group key, event id),
    and the ticket that tracks it."""

    integration = models.ForeignKey(Integration, verbose_name=_("integration"),
                                    on_delete=models.PROTECT, related_name="alerts")
    identity = models.CharField(_("identity"), max_length=255)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="alerts")
    firing = models.BooleanField(_("firing"), default=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    labels = models.JSONField(_("labels"), default=dict)
    # The most urgent priority its severity has asked for so far: a ticket is raised only when
    # a more severe alert arrives, never back over a person who lowered it.
    peak_priority = models.PositiveSmallIntegerField(
        _("most urgent priority asked for"), choices=Priority.choices, default=Priority.LOW
    )
    # A person acknowledged the fault in the monitoring system (Zabbix): a response, so its
    # recovery no longer closes the ticket as resolved before anyone responded.
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "identity"], name="alert_identity")
        ]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return self.identity


class GroupedAlert(models.Model):
    """One alert of a group that an Alertmanager integration tracks as one fault (``dedupe_by:
    group_key``), as its latest notification described it: the ticket shows every one."""

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE,
                              related_name="members")
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    firing = models.BooleanField(_("firing"), default=True)
    labels = models.JSONField(_("labels"), default=dict)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "fingerprint"], name="grouped_alert_member")
        ]
        verbose_name = _("alert of a group")
        verbose_name_plural = _("alerts of a group")

    def __str__(self) -> str:
        return self.fingerprint


class WebhookReport(models.Model):
    """A report a generic webhook source sent, known by its idempotency key, and the ticket it
    opened: a repeat delivery of the key answers with that ticket."""

    integration = models.ForeignKey(Integration, verbose_name=_("integration"),
                                    on_delete=models.PROTECT, related_name="reports")
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    external_id = models.CharField(_("id at the source"), max_length=255, blank=True)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="webhook_reports")
    deliveries = models.PositiveIntegerField(_("deliveries"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "idempotency_key"],
                                    name="webhook_report_key")
        ]
        verbose_name = _("webhook report")
        verbose_name_plural = _("webhook reports")

    def __str__(self) -> str:
        return self.idempotency_key


# Mail's own model lives with the mail code; importing it here registers it with the app.
from opsdesk.intake.mail.models import MailMessage as MailMessage  # noqa: E402
