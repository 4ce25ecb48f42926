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
