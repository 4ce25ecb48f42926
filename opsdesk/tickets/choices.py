"""The vocabularies of a ticket: states, priorities, sources, channels, impact and urgency."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    ANALYSING = "analysing", _("Analysing")
    PLANNING = "planning", _("Planning")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for submitter")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting verification")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


# A ticket is open until it is closed or archived (the workflow's read-only states; a test
# keeps the two the same). In declaration order: the queues list them in this order.
CLOSED_STATUSES = (Status.CLOSED, Status.ARCHIVED)
OPEN_STATUSES = tuple(s for s in Status if s not in CLOSED_STATUSES)
# The same as a condition, spelled the way the partial indexes of open tickets state it
# (tickets/models.py): SQLite uses such an index only for a query that states its condition
# term by term, which a list of statuses (status IN (...)) cannot match.
STILL_OPEN = models.Q(*(~models.Q(status=s) for s in CLOSED_STATUSES))


class Priority(models.IntegerChoices):
    """Stored as a rank so that ordering by priority is an index scan; 1 is the most urgent."""

    URGENT = 1, _("Urgent")
    HIGH = 2, _("High")
    MEDIUM = 3, _("Medium")
    LOW = 4, _("Low")

    @property
    def code(self) -> str:
        return self.name.lower()

    @classmethod
    def from_code(cls, code: str) -> "Priority":
        return cls[code.upper()]


class Impact(models.TextChoices):
    """How widely the problem is felt (the procedure's scope of impact)."""

    ALL_USERS = "all_users", _("Core business down, all users affected")
    SOME_USERS = "some_users", _("Main function broken, some users affected")
    FEW_USERS = "few_users", _("Secondary defect, core flow unaffected")
    NONE = "none", _("No one blocked: a suggestion or question")


class Urgency(models.TextChoices):
    """How soon the business needs it back."""

    IMMEDIATE = "immediate", _("Business is stopped now")
    HIGH = "high", _("Work is blocked, no workaround")
    NORMAL = "normal", _("A workaround exists")
    LOW = "low", _("Can wait")


class SourceKind(models.TextChoices):
    USER_REPORT = "user_report", _("User report")
    ALERT = "alert", _("Monitoring alert")
    INSPECTION = "inspection", _("Inspection")
    CROSS_DEPARTMENT = "cross_department", _("Cross-department request")
    EMERGENCY = "emergency", _("Emergency")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    API = "api", _("API")
    CUSTOMER_SERVICE = "customer_service", _("Customer-service system")
    TICKET_PLATFORM = "ticket_platform", _("Ticket platform")
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    ZABBIX = "zabbix", _("Zabbix")
    INSPECTION = "inspection", _("Inspection")


class PlanKind(models.TextChoices):
    """Solution plans by problem type (stage 3)."""

    CODE_FIX = "code_fix", _("Code fix")
    ENVIRONMENT_CHANGE = "environment_change", _("Environment change (scale-out, network, config)")
    SERVICE_RESTART = "service_restart", _("Service restart")
    DATA_REPAIR = "data_repair", _("Data repair (restore, SQL optimisation, cleaning)")
    REQUIREMENT_DELIVERY = "requirement_delivery", _("Requirement evaluation and delivery")
    OTHER = "other", _("Other")


class StepOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIAL = "partial", _("Partly succeeded")


class StepKind(models.TextChoices):
    SHELL = "shell", _("Shell command")
    SQL = "sql", _("SQL")
    CONFIG = "config", _("Configuration change")
    DEPLOY = "deploy", _("Deployment")
    OTHER = "other", _("Other")


class PlanFit(models.TextChoices):
    """How a plan's kind fits the problem's type (tickets/risk.py decides)."""

    FITS = "fits", _("Fits the problem type")
    EXPLAINED = "explained", _("Does not obviously fit; the assignee said why")
    NEEDS_APPROVAL = "needs_approval", _("Does not fit the problem type: the head approves")


class LinkKind(models.TextChoices):
    """How one ticket relates to another, read from the linking ticket."""

    DUPLICATE_OF = "duplicate_of", _("duplicate of")
    RELATED_TO = "related_to", _("related to")
    CAUSED_BY = "caused_by", _("caused by")
    RECURRENCE_OF = "recurrence_of", _("recurrence of")

    @property
    def inverse_label(self) -> str:
        """The same link read from the other ticket."""
        return str(_INVERSE_LABELS[self])


_INVERSE_LABELS = {
    LinkKind.DUPLICATE_OF: _("has a duplicate"),
    LinkKind.RELATED_TO: _("related to"),
    LinkKind.CAUSED_BY: _("caused"),
    LinkKind.RECURRENCE_OF: _("recurred as"),
}
