"""API shapes for tickets. Only shapes: validation of business rules lives in the services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import (
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opsdesk.accounts.models import User
from opsdesk.bounds import PastMoment
from opsdesk.sla.selectors import sla_summary
from opsdesk.tickets.choices import (
    Channel,
    Impact,
    LinkKind,
    Priority,
    SourceKind,
    StepKind,
    StepOutcome,
    Urgency,
)
from opsdesk.tickets.fields import LONG_TEXT_MAX, ticket_field
from opsdesk.tickets.models import Plan, Ticket, TimelineEvent, WorkLogStep
from opsdesk.web.timeline import plain_text


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
    a NUL character is refused too, and a yes-or-no field takes only true or false, as the
    document says (not 0, "no" or "off")."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any],
                            info: ValidationInfo) -> Any:
        # Replaces ninja's Schema validator of the same name, which validates a body whose
        # extra fields are forbidden twice, the second time read through attribute lookups
        # (DjangoGetter, for ORM objects and resolvers). A body is a parsed JSON object or form:
        # once, as a mapping, costs a fifth (47 → 10 µs for a ticket).
        return handler(values)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        # PostgreSQL cannot store NUL in text or JSON: refuse it here, not in the database.
        if _has_nul(value):
            raise ValueError(_("NUL characters are not allowed."))
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and field.annotation is bool and not isinstance(value, bool):
            raise ValueError(_("true or false is expected."))
        return value


def _true_or_false(value: Any) -> Any:
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise ValueError(_("true or false is expected."))


# A yes-or-no form field: "true" or "false", as the document says (not 0, "on" or "no").
FormFlag = Annotated[bool, BeforeValidator(_true_or_false)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


PriorityCode = Literal["urgent", "high", "medium", "low"]  # Priority's codes (a test holds them)
# Long text is bounded as the service bounds it (tickets/fields.py), so the document says so.
LongText = Annotated[str, Field(max_length=LONG_TEXT_MAX)]


def column_text(name: str, default: Any = "", **documented: Any) -> Any:
    """An input as long as the ticket's column ``name`` holds at most: longer input is
    refused here rather than failing the database."""
    return Field(default, max_length=ticket_field(name).max_length, **documented)


class TicketIn(Input):
    title: str = column_text("title", ..., min_length=1)
    impact: Impact
    urgency: Urgency
    description: LongText = ""
    occurred_at: PastMoment | None = Field(
        None, description="When it happened; not in the future, between 2000 and 2099.")
    steps_to_reproduce: LongText = ""
    error_message: LongText = ""
    impact_scope: LongText = ""
    source_kind: SourceKind = SourceKind.USER_REPORT
    channel: Channel | None = None
    submitter: str | None = Field(None, description="Username, when staff file for someone.")
    submitter_name: str = column_text("submitter_name")
    submitter_department: str = column_text("submitter_department")
    submitter_contact: str = column_text("submitter_contact")
    priority: PriorityCode | None = Field(None, description="Staff only.")
    module: str | None = None
    alert_host: str = column_text("alert_host")
    alert_rule: str = column_text("alert_rule")
    alert_level: str = column_text("alert_level")
    alert_at: PastMoment | None = None
    alert_symptom: LongText = ""


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


class TicketListEntry(TicketListItem):
    """A ticket in a list: with a search, where it matched."""

    highlights: dict[str, str] | None = Field(
        None, description="With text=: the fields where a searched word occurs (title, "
        "description, cause, solution, comments, work_log …), each an HTML snippet of the "
        "ticket's own text, escaped, with the words in <mark>.")

    @staticmethod
    def resolve_highlights(obj: Ticket) -> dict[str, str] | None:
        return getattr(obj, "highlights", None)


class PlanOut(Schema):
    number: int
    kind: str
    summary: str
    fix_version: str
    release_at: datetime | None
    delivery_schedule: str
    risk_flags: list[str] = Field(description=(
        "Why the plan needs the department head: changes_code, major_environment_change, "
        "needs_other_department, does_not_fit_problem."))
    needs_approval: bool
    fit: str = Field(description="fits, explained (fit_reason says why) or needs_approval: "
                                 "how the plan's kind fits the problem's type.")
    fit_reason: str
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
    next_step: str
    expected_completion_at: datetime | None
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
    items: list[TicketListEntry]
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
    duration_minutes: int = Field(..., ge=0, le=2_147_483_647,
                                  description="How long the step took whoever executed it.")
    kind: StepKind = StepKind.SHELL
    outcome: StepOutcome = StepOutcome.SUCCEEDED
    output: str = ""
    target: str = Field("", max_length=WorkLogStep._meta.get_field("target").max_length,
                        description="Where it ran: host, database.")
    executed_at: PastMoment | None = Field(
        None, description="When it was executed (default: now); not in the future, between "
        "2000 and 2099.")
    internal: bool = Field(True, description="Department staff only (the default); false "
                           "shows the submitter the step: command, host and output.")


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
    duration_minutes: int | None = Field(description="None for steps recorded before steps "
                                                     "carried their duration.")
    internal: bool

    @staticmethod
    def resolve_plan(obj: Any) -> int:
        return int(obj.plan.number)

    @staticmethod
    def resolve_executed_by(obj: Any) -> dict[str, Any] | None:
        return UserRef.of(obj.executed_by)


class CommentIn(Input):
    body: str = Field(..., min_length=1, max_length=LONG_TEXT_MAX)
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


Username = Annotated[str, Field(min_length=1,
                                max_length=User._meta.get_field("username").max_length)]


class CollaboratorsIn(Input):
    add: list[Username] = Field([], max_length=50, description="Usernames or ids to pull in.")
    remove: list[Username] = Field([], max_length=50, description="Usernames or ids to release.")


class EventOut(Schema):
    id: int
    kind: str
    actor: UserRef | None
    at: datetime
    internal: bool
    data: dict[str, Any]
    text: str = Field(description="The event as the ticket page says it, in your language and "
                                  "time zone: a title, what was written, then one line per "
                                  "fact. For people; programs read data.")

    @staticmethod
    def resolve_actor(obj: TimelineEvent) -> dict[str, Any] | None:
        return UserRef.of(obj.actor)

    @staticmethod
    def resolve_text(obj: TimelineEvent) -> str:
        return plain_text(obj)


class TicketRef(Schema):
    key: str
    title: str | None = Field(description="None when you may not see that ticket.")
    status: str | None


class LinkOut(Schema):
    id: int
    kind: str = Field(description="duplicate_of, related_to, caused_by or recurrence_of, read "
                                  "from the source ticket.")
    direction: str = Field(description="outgoing: this ticket is <kind> the other; incoming: "
                                       "the other ticket is <kind> this one.")
    label: str = Field(description="The link read from this ticket, in your language.")
    ticket: TicketRef
    created_by: UserRef | None = Field(description="None when opsdesk linked them (an alert "
                                                   "that fired again).")
    created_at: datetime


class LinkIn(Input):
    kind: LinkKind
    ticket: str = Field(..., min_length=1, max_length=40, description="The other ticket's key.")


class PersonTimeOut(Schema):
    person: UserRef
    minutes: int


class ReportedTimeOut(Schema):
    round: int | None
    at: datetime
    by: UserRef | None = Field(description="Who reported it; None outside the department.")
    minutes: int | None
    corrected: bool = Field(description="A correction of the round's figure, not a resolution.")


class TimeTakenOut(Schema):
    logged_minutes: int = Field(description="Summed from the work log over every round.")
    by_person: list[PersonTimeOut] = Field(description="Department staff only: empty for "
                                           "anyone else, who sees the total.")
    steps_without_duration: int
    reported: list[ReportedTimeOut] = Field(description="Each resolution's reported figure and "
                                                        "its corrections, oldest first.")
    reported_minutes: int | None = Field(description="The figure reported now.")


class RecurrenceIn(Input):
    """The new report: what happened this time. Title, impact, urgency, module and the
    submitter's contact and department default to the original's (its submitter is the
    original's); a person's report needs what every report needs."""

    title: str | None = column_text("title", None, min_length=1)
    impact: Impact | None = None
    urgency: Urgency | None = None
    description: LongText = ""
    occurred_at: PastMoment | None = Field(
        None, description="When it happened; not in the future, between 2000 and 2099.")
    steps_to_reproduce: LongText = ""
    error_message: LongText = ""
    impact_scope: LongText = ""
    submitter_department: str = column_text("submitter_department")
    submitter_contact: str = column_text("submitter_contact")
