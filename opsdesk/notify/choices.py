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
    CALENDAR_SCHEDULE = "calendar_schedule", _("Holiday schedule missing")
    # The submitter's side of the procedure (notify/conversation.py).
    RECEIVED = "received", _("Report received")
    HANDLER_ASSIGNED = "handler_assigned", _("Engineer assigned to your report")
    SENT_BACK = "sent_back", _("Report sent back to complete")
    QUESTION = "question", _("Question for you")
    REPLY = "reply", _("Reply from the engineer")
    PROGRESS = "progress", _("Progress update")
    VERIFY = "verify", _("Fix to verify")
    VERIFY_REMINDER = "verify_reminder", _("Reminder: fix to verify")
    CLOSED = "closed", _("Ticket closed")
    REOPENED = "reopened", _("Ticket reopened")
    # What participants hear of decisions on their tickets.
    PLAN_APPROVED = "plan_approved", _("Plan approved")
    PLAN_REJECTED = "plan_rejected", _("Plan rejected")
    PLAN_EXPLAINED = "plan_explained", _("Plan going ahead on a stated reason")
    SUBMITTER_REPLY = "submitter_reply", _("The submitter's answer")
    NOT_FIXED = "not_fixed", _("Not fixed, says the submitter")
    TICKET_CLOSED = "ticket_closed", _("Your ticket was closed")
    PROGRESS_REQUESTED = "progress_requested", _("Progress update requested")
    COLLABORATOR_ADDED = "collaborator_added", _("Added as collaborator")
    # Watchers, by the topic they chose.
    WATCH_COMMENT = "watch_comment", _("Watched ticket: comment")
    WATCH_STATUS = "watch_status", _("Watched ticket: status change")
    WATCH_DECISION = "watch_decision", _("Watched ticket: decision")
    WATCH_LINK = "watch_link", _("Watched ticket: link")
    # Post-incident reviews (opsdesk/reviews).
    REVIEW_NEEDED = "review_needed", _("Post-incident review needed")
    ACTION_ITEM = "action_item", _("Action item for you")
    ACTION_ITEM_DUE = "action_item_due", _("Action item due soon")
    ACTION_ITEM_OVERDUE = "action_item_overdue", _("Action item overdue")


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


class WatchTopic(models.TextChoices):
    """What someone following a ticket may choose to hear of."""

    COMMENTS = "comments", _("Comments")
    STATUS = "status", _("Status changes and progress")
    DECISIONS = "decisions", _("Decisions (approval, rejection, verification)")
    LINKS = "links", _("Links to other tickets")


# Following a ticket without choosing: everything but links.
DEFAULT_WATCH_TOPICS = (WatchTopic.COMMENTS, WatchTopic.STATUS, WatchTopic.DECISIONS)
