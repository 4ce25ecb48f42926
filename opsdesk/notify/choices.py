"""The vocabularies of notifications: what happened, and the channels that carry it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    SLA_WARNING = "sla_warning", _("SLA at risk")
    SLA_BREACH = "sla_breach", _("SLA breached")
    ESCALATED = "escalated", _("Escalated")
    ASSIGNED = "assigned", _("Assigned")
    TRIAGE_NEEDED = "triage_needed", _("Waiting for triage")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    EMERGENCY = "emergency", _("Emergency")
    STATUS_UPDATE = "status_update", _("Status update")
    INSPECTION_OVERDUE = "inspection_overdue", _("Inspection overdue")


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    DINGTALK = "dingtalk", _("DingTalk robot")
    WECOM = "wecom", _("WeCom robot")
    FEISHU = "feishu", _("Feishu/Lark robot")
    SLACK = "slack", _("Slack")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    ABANDONED = "abandoned", _("Abandoned")
