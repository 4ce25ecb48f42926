"""Every write to a ticket. One function per use case; each runs in one transaction, checks
who may do it against the workflow table, and leaves a timeline event."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.roles import ASSIGNABLE_ROLES, STAFF_ROLES, Role
from opsdesk.knowledge.services import index_new_tickets, reindex_tickets
from opsdesk.runtime import rows
from opsdesk.tickets import fields as f
from opsdesk.tickets import links, policy, registration, risk, selectors, workflow
from opsdesk.tickets.choices import (
    Channel,
    LinkKind,
    Priority,
    SourceKind,
    StepKind,
    StepOutcome,
)
from opsdesk.tickets.dispatch import WaitingForDispatch, dispatched_first
from opsdesk.tickets.effects import ActionContext, is_sent_back
from opsdesk.tickets.errors import (
    ApprovalRequired,
    InvalidField,
    MissingFields,
    NotFound,
    PermissionRefused,
    ReadOnlyTicket,
    StaleVersion,
    TransitionRefused,
)
from opsdesk.tickets.hooks import TicketChange, run_creation_hooks, run_hooks
from opsdesk.tickets.models import (
    Attachment,
    Comment,
    SupportRating,
    Ticket,
    TicketLink,
    TimelineEvent,
    WorkLogStep,
)
from opsdesk.tickets.priority import priority_for
from opsdesk.tickets.storage import StoredFile, store

Kind = TimelineEvent.Kind

# Registration fields a ticket is created with; all strings except the datetimes.
REGISTRATION_TEXT = {field.name: field for field in (
    f.DESCRIPTION, f.STEPS, f.ERROR_MESSAGE, f.IMPACT_SCOPE,
    f.ALERT_HOST, f.ALERT_RULE, f.ALERT_LEVEL, f.ALERT_SYMPTOM,
)}
# Sources anyone may file for themselves; the others are filed by staff or by opsdesk.
SELF_SERVICE_SOURCES = frozenset({SourceKind.USER_REPORT, SourceKind.CROSS_DEPARTMENT})


def record_event(
    *, ticket: Ticket, kind: str, actor: User | None, data: dict[str, Any],
    internal: bool = False, at: datetime | None = None,
) -> TimelineEvent:
    """Append one event to the ticket's timeline."""
    return TimelineEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, data=data, internal=internal,
        at=at or timezone.now(),
    )


def append_events(events: Sequence[TimelineEvent]) -> None:
    """Append many unsaved events (their ids are not read back): an alert storm writes
    hundreds per notification, and the ORM's bulk insert costs three times the insert."""
    rows.append(events)


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a field value for the timeline."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, User):
        return {"id": value.pk, "username": value.username, "name": str(value)}
    if hasattr(value, "pk"):
        return {"id": value.pk, "name": str(value)}
    if isinstance(value, Priority):
        return value.code
    return value


@transaction.atomic
def create_ticket(*, by: User | None, **spec: Any) -> Ticket:
    """Register a problem. Priority comes from the impact × urgency matrix unless department
    staff set it; only staff may file for someone else or from a non-user source. ``by`` is
    None when opsdesk itself files it (an alert, a mail), on behalf of the integration.
    ``spec`` holds the registration fields (see ``new_ticket``)."""
    return _insert([new_ticket(by=by, **spec)], by)[0]


@transaction.atomic
def create_tickets(*, by: User | None, specs: Sequence[Mapping[str, Any]]) -> list[Ticket]:
    """Register several problems at once (an alert storm, a mail import) under the same rules
    as ``create_ticket``: all of them, in bulk, or none (the first refusal is raised)."""
    return _insert([new_ticket(by=by, **spec) for spec in specs], by)


def new_ticket(
    *, by: User | None, title: str, impact: str, urgency: str,
    source_kind: str = SourceKind.USER_REPORT, channel: str = Channel.API,
    submitter: User | None = None, submitter_name: str = "", submitter_department: str = "",
    submitter_contact: str = "", priority: str | None = None,
    module: str | Module | None = None, problem_type: str | None = None,
    occurred_at: datetime | None = None, alert_at: datetime | None = None,
    submitted_at: datetime | None = None, external_submitter: bool = False, **text: str,
) -> Ticket:
    """The unsaved ticket for a registration, or the refusal that names what is wrong.
    ``module`` is a reference (id, code or name) or, from a caller that looked it up, the
    module itself. ``external_submitter``: staff file for a person without an account, named
    by ``submitter_name`` (no account is the submitter)."""
    unknown = set(text) - set(REGISTRATION_TEXT)
    if unknown:
        raise InvalidField(_("Unknown fields: %s.") % ", ".join(sorted(unknown)))
    is_staff = by is None or by.is_department_staff
    if not is_staff and (submitter not in (None, by) or source_kind not in SELF_SERVICE_SOURCES
                         or external_submitter):
        raise PermissionRefused(_("Only department staff may file on behalf of others."))
    title = f.TITLE.parse(title) or ""
    if not title:
        raise InvalidField(_("The title is required."), field="title")
    # Every door (API, pages, mail, alerts) is held to the same lengths and date ranges.
    text = {name: REGISTRATION_TEXT[name].parse(value) or "" for name, value in text.items()}
    submitter_name = f.SUBMITTER_NAME.parse(submitter_name) or ""
    submitter_department = f.SUBMITTER_DEPARTMENT.parse(submitter_department) or ""
    submitter_contact = f.SUBMITTER_CONTACT.parse(submitter_contact) or ""
    occurred_at = f.OCCURRED_AT.parse(occurred_at)
    alert_at = f.ALERT_AT.parse(alert_at)
    values = {
        "impact": f.IMPACT.parse(impact), "urgency": f.URGENCY.parse(urgency),
        "source_kind": SourceKind(source_kind), "channel": Channel(channel),
    }
    if values["impact"] is None or values["urgency"] is None:
        raise InvalidField(_("Impact and urgency are required."), field="impact")
    may_prioritise = by is None or by.has_role(Role.DUTY, Role.HEAD, *ASSIGNABLE_ROLES)
    if priority is not None and not may_prioritise:
        raise PermissionRefused(
            _("Only the duty engineer, module owners, support engineers and the head may "
              "set the priority.")
        )
    if not external_submitter:
        submitter = submitter or (
            by if source_kind == SourceKind.USER_REPORT or not is_staff else None)
    ticket = Ticket(
        title=title,
        submitter=submitter,
        submitter_name=submitter_name or (str(submitter) if submitter else ""),
        submitter_department=submitter_department or (submitter.department if submitter else ""),
        submitter_contact=submitter_contact or (submitter.contact if submitter else ""),
        occurred_at=occurred_at, alert_at=alert_at,
        priority=f.PRIORITY.parse(priority) or priority_for(**{
            "impact": values["impact"], "urgency": values["urgency"]}),
        module=module if isinstance(module, Module) else f.MODULE.parse(module),
        problem_type=f.PROBLEM_TYPE.parse(problem_type) or "",
        **values,
        **text,
    )
    if submitted_at is not None:
        ticket.submitted_at = submitted_at
    if not ticket.submitter_name:
        raise InvalidField(_("The submitter's name is required."), field="submitter_name")
    registration.check_complete(ticket)
    return ticket


def _insert(tickets: list[Ticket], by: User | None) -> list[Ticket]:
    """Write new tickets and their 'created' events in bulk, to be dispatched (routed, their
    clocks started, people told) by the worker, or at once in inline mode (tickets/dispatch.py)."""
    if not tickets:
        return tickets
    inline = settings.OPSDESK_DISPATCH == "inline"
    for ticket in tickets:
        ticket.dispatched = inline
    rows.insert(tickets)
    index_new_tickets(tickets)  # findable as soon as the filing commits
    append_events([
        TimelineEvent(
            ticket=ticket, kind=Kind.CREATED, actor=by, at=ticket.submitted_at,
            data={"priority": ticket.priority_code, "source_kind": ticket.source_kind,
                  "channel": ticket.channel},
        )
        for ticket in tickets
    ])
    if inline:
        run_creation_hooks([TicketChange.creation(ticket, by) for ticket in tickets])
    return tickets


def _lock(ticket_id: int, version: int | None) -> Ticket:
    """The ticket, locked for this transaction, after checking the caller saw its latest
    version. Only for services wrapped in ``dispatched_first``."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("assignee", "submitter", "module", "current_plan")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("No such ticket."))
    if not ticket.dispatched:
        raise WaitingForDispatch(ticket_id)
    if version is not None and version != ticket.version:
        raise StaleVersion(
            _("%(key)s was changed by someone else (version %(theirs)s, you had %(yours)s). "
              "Reload it and try again.")
            % {"key": ticket.key, "theirs": ticket.version, "yours": version},
            current_version=ticket.version,
        )
    return ticket


@dispatched_first
def lock_dispatched(*, ticket_id: int) -> Ticket:
    """The ticket, locked for the caller's transaction, dispatched first if it was still
    waiting: what automation reads before acting on a ticket it may have filed a moment ago
    (an alert resolving), so that the version it passes on is the routed ticket's, never one
    that dispatching is about to move."""
    return _lock(ticket_id, None)


@dispatched_first
@transaction.atomic
def declare_emergency(*, ticket_id: int, by: User, reason: str) -> Ticket:
    """Make an open ticket urgent because ``by`` declared an emergency on it, with the reason
    on the timeline. Who may declare is the emergencies app's rule; it checks before calling."""
    ticket = _lock(ticket_id, None)
    _require_view(by, ticket)
    _require_writable(ticket)
    if not reason.strip():
        raise InvalidField(_("The reason is required."), field="reason")
    changed = _apply(ticket, {"priority": Priority.URGENT})
    _save(ticket)
    now = timezone.now()
    data: dict[str, Any] = {"reason": reason.strip(), "source_kind": ticket.source_kind}
    if changed:
        data["changed"] = changed
    record_event(ticket=ticket, kind=Kind.EMERGENCY, actor=by, data=data, at=now)
    run_hooks(TicketChange(ticket, by, "emergency", ticket.status, ticket.status, changed, now))
    return ticket


@dispatched_first
@transaction.atomic
def raise_priority(*, ticket_id: int, priority: Priority, reason: dict[str, Any]) -> bool:
    """opsdesk's own automation raises an open ticket to ``priority`` (a more severe alert
    joined the fault it tracks), with the reason on the timeline (a code and its particulars,
    said in the reader's language by the timeline); whether it rose. Never
    lowers a priority, and leaves a closed ticket as it was."""
    ticket = _lock(ticket_id, None)
    if ticket.is_read_only or ticket.priority <= priority:
        return False
    changed = _apply(ticket, {"priority": priority})
    _save(ticket)
    now = timezone.now()
    record_event(ticket=ticket, kind=Kind.FIELDS_CHANGED, actor=None,
                 data={"changed": changed, "reason": reason}, at=now)
    run_hooks(TicketChange(ticket, None, "update", ticket.status, ticket.status, changed, now))
    return True


def _require_view(user: User, ticket: Ticket) -> None:
    if not policy.can_view(user, ticket):
        raise NotFound(_("No such ticket."))


def _require_writable(ticket: Ticket, *, states: Iterable[str] = workflow.READ_ONLY_STATES
                      ) -> None:
    if ticket.status in states:
        raise ReadOnlyTicket(
            _("%(key)s is %(status)s and can no longer be changed.")
            % {"key": ticket.key, "status": ticket.get_status_display()}
        )


def _apply(ticket: Ticket, values: dict[str, Any]) -> dict[str, Any]:
    """Set ticket-stored values; return those that changed, in timeline form."""
    changed = {}
    for name, value in values.items():
        before = getattr(ticket, name)
        if before != value:
            if name == "priority" and before is not None:
                before = Priority(before)  # a loaded ticket holds the bare rank
            changed[name] = {"from": _plain(before), "to": _plain(value)}
            setattr(ticket, name, value)
    return changed


def _parse(fields_by_name: dict[str, f.Field], raw: dict[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - set(fields_by_name)
    if unknown:
        raise InvalidField(
            _("This action does not take: %s.") % ", ".join(sorted(unknown)),
            fields=sorted(unknown),
        )
    return {name: fields_by_name[name].parse(value) for name, value in raw.items()}


def _save(ticket: Ticket) -> None:
    ticket.version += 1
    ticket.save()


@dispatched_first
@transaction.atomic
def do_transition(
    *, ticket_id: int, action: str, by: User | None, version: int | None,
    fields: dict[str, Any] | None = None, external_submitter: bool = False,
    reason_code: str = "",
) -> Ticket:
    """Take one action of the workflow table on a ticket, or refuse saying why. ``by`` is None
    for opsdesk's own automation (an alert that resolved itself), or with
    ``external_submitter`` for the ticket's submitter who has no account (her answer by a
    one-click link), named on the timeline by the ticket's submitter name (``by_name``).
    ``reason_code`` names the automation's reason, which the timeline says in each reader's
    language rather than the words it was given in (``fields["reason"]``)."""
    ticket = _lock(ticket_id, version)
    if by is not None:
        _require_view(by, ticket)
    transition = workflow.get(action)
    if transition is None:
        raise TransitionRefused(_("There is no action %r.") % action)
    if ticket.status not in transition.sources:
        raise TransitionRefused(
            _("%(action)s is not possible while the ticket is %(status)s.")
            % {"action": transition.label, "status": ticket.get_status_display()},
            current_status=ticket.status,  # not "status": the error's HTTP status has that name
        )
    if (by is not None and not policy.is_one_of(by, ticket, transition.by)) or (
            external_submitter and not _is_external_submitters(transition, ticket, by)):
        raise PermissionRefused(
            _("Only %(who)s may %(action)s.")
            % {"who": policy.describe_actors(transition.by), "action": transition.label},
        )
    now = timezone.now()
    if (refusal := transition.refusal(ticket, now)) is not None:
        raise TransitionRefused(refusal)
    values = _parse({fld.name: fld for fld in transition.fields}, fields or {})
    forced = [rule for rule in transition.forces if rule.when(ticket, values)]
    values.update({rule.field.name: rule.value for rule in forced})
    by_target = {t: {} for t in f.Target}  # type: dict[f.Target, dict[str, Any]]
    for fld in transition.fields:
        if fld.name in values and values[fld.name] is not None:
            by_target[fld.target][fld.name] = values[fld.name]
    changed = _apply(ticket, by_target[f.Target.TICKET])
    missing = [
        n for n in transition.requires
        if n.applies(ticket, values) and _empty(ticket, n.field, values, given=n.given)
    ]
    if missing:
        raise MissingFields(
            _("%(action)s needs: %(fields)s.") % {
                "action": transition.label,
                "fields": ", ".join(
                    f"{n.field.label} ({n.why})" if n.why else str(n.field.label) for n in missing
                ),
            },
            missing=[n.field.name for n in missing],
        )
    ctx = ActionContext(ticket=ticket, actor=by, values=values, now=now)
    for effect in transition.effects:
        effect(ctx)
    changed.update(ctx.changed)
    source = ticket.status
    target = workflow.resolve_target(transition, ticket)
    if transition.gate is not None:
        target = transition.gate(ctx) or target
    ticket.status = target
    _save(ticket)
    data = {"action": action, "from": source, "to": target, **ctx.event_data}
    if forced:
        data["forced"] = sorted({rule.field.name for rule in forced})
    if changed:
        data["changed"] = changed
    data.update(by_target[f.Target.EVENT])
    if external_submitter:
        data["by_name"] = ticket.submitter_name
    if reason_code:
        data["reason_code"] = reason_code
    kind = {
        "approve": Kind.APPROVAL, "reject_plan": Kind.REJECTION, "escalate": Kind.ESCALATION,
        "propose_plan": Kind.PLAN, "confirm": Kind.VERIFICATION, "reject_fix": Kind.VERIFICATION,
    }.get(action, Kind.TRANSITION)
    record_event(ticket=ticket, kind=kind, actor=by, data=data, at=now)
    details = {k: v for k, v in data.items() if k not in ("action", "from", "to", "changed")}
    run_hooks(TicketChange(ticket, by, action, source, target, changed, now, details))
    return ticket


def _is_external_submitters(transition: workflow.Transition, ticket: Ticket,
                            by: User | None) -> bool:
    """Whether an action taken without an account is one the ticket's submitter may take and
    the submitter has no account."""
    return (by is None and ticket.submitter_id is None
            and workflow.Party.SUBMITTER in transition.by)


def _empty(ticket: Ticket, field: f.Field, values: dict[str, Any], *, given: bool) -> bool:
    if field.target is f.Target.TICKET and not given:
        return getattr(ticket, field.name) in (None, "")
    return values.get(field.name) in (None, "")


@dispatched_first
@transaction.atomic
def update_ticket(*, ticket_id: int, by: User, version: int, fields: dict[str, Any]) -> Ticket:
    """Change registration or classification fields, as far as ``by`` may edit them."""
    ticket = _lock(ticket_id, version)
    _require_view(by, ticket)
    _require_writable(ticket)
    values = _parse(workflow.EDITABLE_FIELDS, fields)
    allowed = policy.editable_fields(by, ticket)
    refused = sorted(set(values) - allowed)
    if refused:
        raise PermissionRefused(
            _("You may not change: %s.") % ", ".join(
                str(workflow.EDITABLE_FIELDS[name].label) for name in refused), fields=refused
        )
    if "title" in values and not values["title"]:
        raise InvalidField(_("The title is required."), field="title")
    for name in _REQUIRED:
        if name in values and values[name] is None:
            raise InvalidField(
                _("%(field)s: %(value)r is not a valid value.")
                % {"field": workflow.EDITABLE_FIELDS[name].label, "value": fields[name]},
                field=name,
            )
    if ("impact" in values or "urgency" in values) and "priority" not in values:
        values["priority"] = priority_for(
            impact=values.get("impact") or ticket.impact,
            urgency=values.get("urgency") or ticket.urgency,
        )
    changed = _apply(ticket, {k: "" if v is None and k not in _NULLABLE else v
                              for k, v in values.items()})
    if not changed:
        return ticket
    _save(ticket)
    now = timezone.now()
    record_event(ticket=ticket, kind=Kind.FIELDS_CHANGED, actor=by, data={"changed": changed},
                 at=now)
    run_hooks(TicketChange(ticket, by, "update", ticket.status, ticket.status, changed, now))
    if is_sent_back(ticket) and ticket.submitter_id == by.pk:
        # She completed the report she was sent back: it goes on, as her reply would.
        ticket = do_transition(ticket_id=ticket.pk, action="resume", by=by, version=None)
    return ticket


_NULLABLE = frozenset({"occurred_at", "module", "estimate_minutes", "deadline_at"})
# Every ticket has these; an edit may change them but not clear them.
_REQUIRED = ("impact", "urgency", "priority", "time_taken_minutes")


@dispatched_first
@transaction.atomic
def add_work_log_step(
    *, ticket_id: int, by: User, command: str, duration_minutes: int | str | None,
    kind: str = StepKind.SHELL, outcome: str = StepOutcome.SUCCEEDED, output: str = "",
    target: str = "", executed_at: datetime | str | None = None, internal: bool = True,
) -> WorkLogStep:
    """Record a step executed on production, verbatim, with how long it took ``by`` (minutes;
    a form's text is parsed, and none is refused) and when (now unless given: a moment in
    opsdesk's bounds, not in the future). Refused
    before execution is allowed: without a plan, while a plan that needs approval has not been
    approved, or for a kind of step the plan does not cover (tickets/risk.py). Internal (the
    default): only department staff see it, on the work log and the timeline."""
    ticket = _lock(ticket_id, None)
    _require_view(by, ticket)
    _require_writable(ticket)
    is_collaborator = ticket.collaborators.filter(pk=by.pk).exists()
    if not (policy.is_one_of(by, ticket, {workflow.Party.ASSIGNEE}) or is_collaborator):
        raise PermissionRefused(
            _("Only the assignee and the ticket's collaborators may record executed steps.")
        )
    plan = ticket.current_plan
    if ticket.status not in workflow.EXECUTION_STATES or plan is None:
        raise ApprovalRequired(
            _("Nothing may be executed on %(key)s yet: it is %(status)s; steps are recorded "
              "while a plan is in progress.")
            % {"key": ticket.key, "status": ticket.get_status_display()}
        )
    executed_at = f.EXECUTED_AT.parse(executed_at) or timezone.now()
    if plan.needs_approval and (plan.approved_at is None or executed_at < plan.approved_at):
        # A step dated before the approval would put an unapproved execution on record.
        raise ApprovalRequired(_("Plan %s needs the department head's approval first.")
                               % plan.number)
    if kind not in StepKind.values:
        raise InvalidField(_("The kind of step must be one of: %s.")
                           % ", ".join(str(label) for label in StepKind.labels),
                           field="kind", choices=StepKind.values)
    if not risk.covers(plan.kind, kind):
        raise ApprovalRequired(
            _("Plan %(number)s (%(plan)s) does not cover a step of kind %(kind)s; revise the "
              "plan to one that does.")
            % {"number": plan.number, "plan": plan.get_kind_display(),
               "kind": StepKind(kind).label},
            field="kind",
        )
    if not command.strip():
        raise InvalidField(_("The command is required."), field="command")
    minutes = f.DURATION.parse(duration_minutes)
    if minutes is None:
        raise InvalidField(_("How long the step took (minutes) is required."),
                           field="duration_minutes")
    step = WorkLogStep.objects.create(
        ticket=ticket, plan=plan, kind=StepKind(kind), command=command,
        outcome=StepOutcome(outcome), output=output, target=target.strip(), executed_by=by,
        executed_at=executed_at, internal=internal, duration_minutes=minutes,
    )
    record_event(
        ticket=ticket, kind=Kind.WORK_LOG, actor=by, at=step.executed_at, internal=internal,
        data={"step": step.pk, "plan": plan.number, "kind": step.kind, "command": command,
              "target": step.target, "outcome": step.outcome, "output": output,
              "duration_minutes": minutes},
    )
    reindex_tickets(ticket_ids=[ticket.pk])
    return step


@dispatched_first
@transaction.atomic
def add_comment(*, ticket_id: int, by: User | None, body: str, internal: bool = False,
                author_name: str = "") -> Comment:
    """Comment on a ticket. Internal notes are for staff only; a submitter's reply to a
    question resumes the ticket from waiting. ``by`` is None for the ticket's external
    submitter, who has no account (a reply by mail, whose sender mail intake verified against
    the ticket's contact), named by ``author_name``."""
    ticket = _lock(ticket_id, None)
    if by is not None:
        _require_view(by, ticket)
    elif not author_name.strip() or internal:
        raise InvalidField(_("A comment from outside opsdesk needs its author's name and "
                             "cannot be internal."), field="author_name")
    _require_writable(ticket)
    body = f.COMMENT.parse(body) or ""
    if not body:
        raise InvalidField(_("The comment is empty."), field="body")
    if internal and by is not None and not by.has_role(*STAFF_ROLES):
        raise PermissionRefused(_("Only department staff may write internal notes."))
    comment = Comment.objects.create(ticket=ticket, author=by, body=body, internal=internal,
                                     author_name=author_name.strip()[:255])
    data = {"comment": comment.pk, "body": body, "internal": internal}
    if by is None:
        data["from"] = comment.author_name
    record_event(ticket=ticket, kind=Kind.COMMENT, actor=by, internal=internal,
                 at=comment.created_at, data=data)
    from_submitter = ticket.submitter_id == by.pk if by is not None else True
    if not internal and ticket.status == workflow.S.WAITING and from_submitter:
        ticket = do_transition(ticket_id=ticket.pk, action="resume", by=by, version=None)
    run_hooks(TicketChange(ticket, by, "comment", ticket.status, ticket.status,
                           {"public": not internal}, comment.created_at,
                           details={"comment": comment.pk}))
    return comment


def clean_file_name(name: str) -> str:
    """A display name for an uploaded file: no directories, no control characters, not empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:255] or "attachment"


def add_attachment(
    *, ticket_id: int, by: User | None, name: str, content: bytes | File,
    content_type: str = "", internal: bool = False, comment: Comment | None = None,
) -> Attachment:
    """Attach a file: its bytes (a mail's), or a file read in chunks (an upload). ``by`` is
    None when opsdesk itself attaches it (a file from a mail). Submitters attach to their own
    tickets; internal files are for staff only. The file is stored before the ticket's
    transaction begins, so that writing a large one does not hold the database's write lock,
    and removed again when the attachment is refused or not committed."""
    display_name = clean_file_name(name)
    with store(Attachment.file.field, content, name=display_name) as stored:
        return _attach_stored(ticket_id=ticket_id, by=by, stored=stored, name=display_name,
                              content_type=content_type, internal=internal, comment=comment)


@dispatched_first
@transaction.atomic
def _attach_stored(
    *, ticket_id: int, by: User | None, stored: StoredFile, name: str, content_type: str,
    internal: bool, comment: Comment | None,
) -> Attachment:
    ticket = _lock(ticket_id, None)
    if by is not None:
        _require_view(by, ticket)
        if internal and not by.has_role(*STAFF_ROLES):
            raise PermissionRefused(_("Only department staff may attach internal files."))
    _require_writable(ticket)
    attachment = Attachment.objects.create(
        ticket=ticket, comment=comment, uploaded_by=by, name=name, file=stored.name,
        content_type=content_type[:255], size=stored.size, sha256=stored.sha256,
        internal=internal,
    )
    record_event(
        ticket=ticket, kind=Kind.ATTACHMENT, actor=by, internal=internal,
        at=attachment.created_at,
        data={"attachment": attachment.pk, "name": attachment.name, "size": attachment.size,
              "content_type": attachment.content_type},
    )
    return attachment


@dispatched_first
@transaction.atomic
def set_collaborators(
    *, ticket_id: int, by: User, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> Ticket:
    """Pull developers and ops engineers into a ticket, or release them."""
    ticket = _lock(ticket_id, None)
    _require_view(by, ticket)
    _require_writable(ticket)
    if not policy.is_one_of(by, ticket, policy.COLLABORATOR_MANAGERS):
        raise PermissionRefused(_("Only the assignee, the duty engineer or the head may do this."))
    added, removed = _people(add), _people(remove)
    if not added and not removed:
        raise InvalidField(_("Name at least one person to add or remove."), field="collaborators")
    not_staff = [str(u) for u in added if not u.is_department_staff]
    if not_staff:
        raise InvalidField(_("Not department staff: %s.") % ", ".join(not_staff))
    ticket.collaborators.add(*added)
    ticket.collaborators.remove(*removed)
    now = timezone.now()
    change = {"collaborators": {"added": [_plain(u) for u in added],
                                "removed": [_plain(u) for u in removed]}}
    event = record_event(ticket=ticket, kind=Kind.FIELDS_CHANGED, actor=by, data=change, at=now)
    # The version stays (membership is not a ticket field): the event names the change.
    run_hooks(TicketChange(ticket, by, "collaborators", ticket.status, ticket.status, change,
                           now, details={"event": event.pk}))
    return ticket


def _people(refs: Iterable[str]) -> list[User]:
    """The users named by ``refs`` (usernames or ids), each once; a blank name is refused."""
    people: dict[int, User] = {}
    for ref in refs:
        user = f.COLLABORATOR.parse(ref)
        if user is None:
            raise InvalidField(_("A collaborator's username is required."),
                               field="collaborators")
        people[user.pk] = user
    return list(people.values())


@dataclass(frozen=True)
class RuleAssignment:
    """A routing rule's decision for a ticket just created: who takes it, and which rule said so."""

    ticket: Ticket
    assignee: User
    rule: str


def assign_by_rules(assignments: Sequence[RuleAssignment]) -> None:
    """Triage done by routing rules rather than a person: the table's ``triage`` row, with
    the rule named on the timeline ("assigned to 王磊 by rule 'payment-urgent'"). The tickets
    were created in the caller's transaction, so nobody else can hold them; they are written
    with one UPDATE per assignee. The caller tells the assignees."""
    transition = workflow.BY_NAME["triage"]
    now = timezone.now()
    events, by_assignee = [], defaultdict(list)
    for assignment in assignments:
        ticket, assignee = assignment.ticket, assignment.assignee
        if ticket.status not in transition.sources:
            raise TransitionRefused(_("Only new tickets are routed."))
        if not assignee.has_role(*ASSIGNABLE_ROLES):
            raise InvalidField(
                _("%(user)s cannot be the assignee: only module owners and support engineers "
                  "can.") % {"user": assignee},
                field="assignee",
            )
        changed = _apply(ticket, {"assignee": assignee})
        source, ticket.status = ticket.status, workflow.S.ASSIGNED
        ticket.version, ticket.updated_at = ticket.version + 1, now
        by_assignee[assignee.pk].append(ticket.pk)
        events.append(TimelineEvent(
            ticket=ticket, kind=Kind.TRANSITION, actor=None, at=now,
            data={"action": "triage", "from": source, "to": ticket.status, "changed": changed,
                  "rule": assignment.rule},
        ))
    for assignee_id, ids in by_assignee.items():
        Ticket.objects.filter(pk__in=ids).update(
            assignee_id=assignee_id, status=workflow.S.ASSIGNED, version=F("version") + 1,
            updated_at=now,
        )
    append_events(events)


def note_routing(notes: Sequence[tuple[Ticket, str, dict[str, Any]]]) -> None:
    """Explain on the timeline routing decisions that changed nothing (left for triage):
    (ticket, note, data) each, the note a code the timeline says in its reader's language."""
    append_events([
        TimelineEvent(ticket=ticket, kind=Kind.ROUTING, actor=None, internal=True,
                      at=timezone.now(), data={"note": note, **data})
        for ticket, note, data in notes
    ])


@dispatched_first
@transaction.atomic
def rate_support(*, ticket_id: int, by: User, score: int, comment: str = "") -> SupportRating:
    """The submitter rates the support (1–5) once the ticket is closed; once per ticket."""
    ticket = _lock(ticket_id, None)
    _require_view(by, ticket)
    _require_writable(ticket, states=(workflow.S.ARCHIVED,))
    if ticket.submitter_id != by.pk:
        raise PermissionRefused(_("Only the submitter may rate the support."))
    if not ticket.is_read_only:
        raise TransitionRefused(_("The support can be rated once the ticket is closed."))
    if score not in SupportRating.SCORES:
        raise InvalidField(_("The score must be from 1 to 5."), field="score")
    if SupportRating.objects.filter(ticket=ticket).exists():
        raise TransitionRefused(_("%s has already been rated.") % ticket.key)
    rating = SupportRating.objects.create(ticket=ticket, rated_by=by, score=score,
                                          comment=comment.strip())
    record_event(ticket=ticket, kind=Kind.RATING, actor=by, at=rating.created_at,
                 data={"score": score, "comment": rating.comment})
    return rating


@dispatched_first
@transaction.atomic
def link_tickets(*, ticket_id: int, by: User, other: str, kind: str) -> TicketLink:
    """Record that the ticket is ``kind`` (duplicate of, related to, caused by, a recurrence
    of) the ticket ``other`` (its key), on both tickets. Department staff who can see both;
    closed tickets too (a link changes neither ticket), but not from an archived one: its
    record is final (a later ticket may still link to it)."""
    ticket = _lock(ticket_id, None)
    _require_view(by, ticket)
    _require_writable(ticket, states=(workflow.S.ARCHIVED,))
    if not by.is_department_staff:
        raise PermissionRefused(_("Only department staff may link tickets."))
    if kind not in LinkKind.values:
        raise InvalidField(_("The kind of link must be one of: %s.")
                           % ", ".join(str(label) for label in LinkKind.labels),
                           field="kind", choices=LinkKind.values)
    try:
        target = Ticket.objects.filter(pk=selectors.ticket_id_from_key(other.strip())).first()
    except NotFound:
        target = None
    if target is None or not policy.can_view(by, target):
        raise InvalidField(_("No such ticket: %s.") % other, field="ticket")
    return links.add(source=ticket, target=target, kind=LinkKind(kind), by=by,
                     at=timezone.now())


@transaction.atomic
def unlink_tickets(*, ticket_id: int, by: User, link_id: int) -> None:
    """Remove a link of the ticket (either direction); both timelines keep that it was.
    Not from an archived ticket, whose record is final."""
    link = (TicketLink.objects.select_related("source", "target")
            .filter(Q(source_id=ticket_id) | Q(target_id=ticket_id), pk=link_id).first())
    if link is None or not policy.can_view(by, link.source) or not policy.can_view(
            by, link.target):
        raise NotFound(_("No such link."))
    if not by.is_department_staff:
        raise PermissionRefused(_("Only department staff may remove links."))
    _require_writable(link.source if link.source_id == ticket_id else link.target,
                      states=(workflow.S.ARCHIVED,))
    links.remove(link=link, by=by, at=timezone.now())


@transaction.atomic
def report_recurrence(*, ticket_id: int, by: User, **registration_fields: Any) -> Ticket:
    """"It happened again" after the reopening window: a new ticket, registered like any
    report (title, impact, urgency, module and the submitter's name, contact and department
    default to the original's; its submitter is the original's), linked to the original as its
    recurrence. Within the window the original is reopened instead."""
    original = Ticket.objects.select_related("module", "submitter").filter(pk=ticket_id).first()
    if original is None or not policy.can_view(by, original):
        raise NotFound(_("No such ticket."))
    if original.submitter_id != by.pk and not by.is_department_staff:
        raise PermissionRefused(_("Only the submitter and department staff may report that "
                                  "it happened again."))
    if not original.is_read_only:
        raise TransitionRefused(_("%s is still open: add what happened to it instead.")
                                % original.key)
    if workflow.BY_NAME["reopen"].refusal(original, timezone.now()) is None:
        raise TransitionRefused(
            _("%(key)s was closed less than %(days)d days ago: reopen it instead.")
            % {"key": original.key, "days": settings.OPSDESK_REOPEN_DAYS})
    spec = {"title": original.title, "impact": original.impact, "urgency": original.urgency,
            "module": original.module, **_submitter_of(original),
            **{k: v for k, v in registration_fields.items() if v not in (None, "")}}
    ticket = create_ticket(by=by, **spec)
    links.add(source=ticket, target=original, kind=LinkKind.RECURRENCE_OF, by=by,
              at=ticket.submitted_at)
    return ticket


def _submitter_of(original: Ticket) -> dict[str, Any]:
    """Who reported ``original``, as she gave her name, contact and department: the same
    person reports it again, whoever files it (staff for an external submitter)."""
    return {
        "submitter": original.submitter, "external_submitter": original.submitter_id is None,
        "submitter_name": original.submitter_name,
        "submitter_contact": original.submitter_contact,
        "submitter_department": original.submitter_department,
    }


def link_recurrence(*, ticket: Ticket, original_id: int, at: datetime) -> None:
    """opsdesk itself records that ``ticket`` is a recurrence of the closed ticket
    ``original_id`` (a monitored fault that fired again after its ticket closed)."""
    original = Ticket.objects.get(pk=original_id)
    links.add(source=ticket, target=original, kind=LinkKind.RECURRENCE_OF, by=None, at=at)
