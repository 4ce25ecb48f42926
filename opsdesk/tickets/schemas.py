"""API shapes for tickets. Only shapes: validation of business rules lives in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from opsdesk.sla.selectors import sla_summary
from opsdesk.tickets.choices import (
    Channel,
    Impact,
    Priority,
    SourceKind,
    StepKind,
    StepOutcome,
    Urgency,
)
from opsdesk.tickets.models import Plan, Ticket, TimelineEvent


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def of(user: Any) -> dict[str, Any] | None:
        if user is None:
            return None
        return {"id": user.pk, "username": user.username, "name": str(user)}


class Input(Schema):
    """A request body. A field it does not know is refused, not dropped: a misspelt
    ``priorty`` must not file a ticket that silently lacks what the caller sent. Text holding
    a NUL character is refused too."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text or JSON: refuse it here, not in the database.
        if _has_nul(value):
            raise ValueError("NUL characters are not allowed")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class TicketIn(Input):
    title: str = Field(..., min_length=1, max_length=200)
    impact: Impact
    urgency: Urgency
    description: str = ""
    occurred_at: datetime | None = None
    steps_to_reproduce: str = ""
    error_message: str = ""
    impact_scope: str = ""
    source_kind: SourceKind = SourceKind.USER_REPORT
    channel: Channel | None = None
    submitter: str | None = Field(None, description="Username, when staff file for someone.")
    # Lengths are the columns': longer input is refused here rather than failing the database.
    submitter_name: str = Field("", max_length=100)
    submitter_department: str = Field("", max_length=100)
    submitter_contact: str = Field("", max_length=200)
    priority: str | None = Field(None, description="urgent, high, medium or low; staff only.")
    module: str | None = None
    alert_host: str = Field("", max_length=255)
    alert_rule: str = Field("", max_length=255)
    alert_level: str = Field("", max_length=50)
    alert_at: datetime | None = None
    alert_symptom: str = ""


class ModuleRef(Schema):
    id: int
    code: str
    name: str


class SlaOut(Schema):
    state: str = Field(description="on_track, at_risk, breached, paused, met or none")
    policy: str | None = None
    response_due_at: datetime | None = None
    responded_at: datetime | None = None
    resolution_due_at: datetime | None = None
    resolved_at: datetime | None = None
    paused_since: datetime | None = None
    remaining_seconds: int | None = Field(None, description="Until the next deadline.")


class TicketListItem(Schema):
    key: str
    id: int
    title: str
    status: str
    priority: str
    source_kind: str
    channel: str
    submitted_at: datetime
    submitter_name: str
    assignee: UserRef | None
    module: ModuleRef | None
    deadline_at: datetime | None
    version: int
    sla: SlaOut

    @staticmethod
    def resolve_priority(obj: Ticket) -> str:
        return Priority(obj.priority).code

    @staticmethod
    def resolve_sla(obj: Ticket) -> dict[str, Any]:
        return sla_summary(getattr(obj, "sla_clock", None), timezone.now())

    @staticmethod
    def resolve_assignee(obj: Ticket) -> dict[str, Any] | None:
        return UserRef.of(obj.assignee)


class PlanOut(Schema):
    number: int
    kind: str
    summary: str
    fix_version: str
    release_at: datetime | None
    delivery_schedule: str
    risk_flags: list[str]
    needs_approval: bool
    created_by: UserRef
    created_at: datetime
    approved_by: UserRef | None
    approved_at: datetime | None

    @staticmethod
    def resolve_created_by(obj: Plan) -> dict[str, Any] | None:
        return UserRef.of(obj.created_by)

    @staticmethod
    def resolve_approved_by(obj: Plan) -> dict[str, Any] | None:
        return UserRef.of(obj.approved_by)


class ActionOut(Schema):
    name: str
    label: str
    target: str
    requires: list[dict[str, Any]]
    accepts: list[dict[str, Any]]
    help: str


class TicketOut(TicketListItem):
    submitter: UserRef | None
    submitter_department: str
    submitter_contact: str
    description: str
    occurred_at: datetime | None
    steps_to_reproduce: str
    error_message: str
    impact_scope: str
    impact: str
    urgency: str
    alert_host: str
    alert_rule: str
    alert_level: str
    alert_at: datetime | None
    alert_symptom: str
    collaborators: list[UserRef]
    problem_type: str
    estimate_minutes: int | None
    analysis_notes: str
    current_plan: PlanOut | None
    escalated_at: datetime | None
    cause: str
    solution: str
    time_taken_minutes: int | None
    prevention: str
    verification_evidence: str
    reopen_count: int
    closed_at: datetime | None
    archived_at: datetime | None
    updated_at: datetime
    dispatched: bool = Field(description=(
        "False for a moment after filing: routing, the SLA clocks and the notifications are "
        "on their way (the worker dispatches new tickets within about a second)."))
    actions: list[ActionOut] = []
    editable_fields: list[str] = []

    @staticmethod
    def resolve_submitter(obj: Ticket) -> dict[str, Any] | None:
        return UserRef.of(obj.submitter)

    @staticmethod
    def resolve_collaborators(obj: Ticket) -> list[dict[str, Any] | None]:
        return [UserRef.of(u) for u in obj.collaborators.all()]


class TicketPage(Schema):
    items: list[TicketListItem]
    next_cursor: str | None


class TicketUpdateIn(Input):
    version: int
    fields: dict[str, Any]


class TransitionIn(Input):
    action: str
    version: int
    fields: dict[str, Any] = {}


class WorkLogIn(Input):
    command: str = Field(..., description="Exactly what was executed: the command or SQL.")
    kind: StepKind = StepKind.SHELL
    outcome: StepOutcome = StepOutcome.SUCCEEDED
    output: str = ""
    target: str = Field("", max_length=255, description="Where it ran: host, database.")
    executed_at: datetime | None = None


class WorkLogOut(Schema):
    id: int
    plan: int
    kind: str
    command: str
    target: str
    outcome: str
    output: str
    executed_by: UserRef
    executed_at: datetime

    @staticmethod
    def resolve_plan(obj: Any) -> int:
        return int(obj.plan.number)

    @staticmethod
    def resolve_executed_by(obj: Any) -> dict[str, Any] | None:
        return UserRef.of(obj.executed_by)


class CommentIn(Input):
    body: str = Field(..., min_length=1)
    internal: bool = False


class CommentOut(Schema):
    id: int
    body: str
    internal: bool
    author: UserRef | None
    author_name: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: Any) -> dict[str, Any] | None:
        return UserRef.of(obj.author)

    @staticmethod
    def resolve_author_name(obj: Any) -> str:
        return str(obj.author_name or obj.author or "")


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    internal: bool
    uploaded_by: UserRef | None
    created_at: datetime
    url: str

    @staticmethod
    def resolve_uploaded_by(obj: Any) -> dict[str, Any] | None:
        return UserRef.of(obj.uploaded_by)

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"/api/v1/tickets/{obj.ticket.key}/attachments/{obj.pk}"


class DecisionIn(Input):
    version: int
    reason: str = ""


class VerifyIn(Input):
    version: int
    accepted: bool
    reason: str = ""


class CollaboratorsIn(Input):
    add: list[str] = []
    remove: list[str] = []


class EventOut(Schema):
    id: int
    kind: str
    actor: UserRef | None
    at: datetime
    internal: bool
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: TimelineEvent) -> dict[str, Any] | None:
        return UserRef.of(obj.actor)
