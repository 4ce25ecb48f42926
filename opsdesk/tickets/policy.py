"""Who may see a ticket and who may take which action on it, read from the workflow table."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.tickets import workflow
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.workflow import Actor, Party


def can_view(user: User, ticket: Ticket) -> bool:
    if user.sees_all_tickets:
        return True
    if user.pk in (ticket.submitter_id, ticket.assignee_id):
        return True
    return ticket.collaborators.filter(pk=user.pk).exists()


def is_one_of(user: User, ticket: Ticket, actors: Iterable[Actor]) -> bool:
    for who in actors:
        if isinstance(who, Party):
            holder = ticket.assignee_id if who is Party.ASSIGNEE else ticket.submitter_id
            if holder is not None and holder == user.pk:
                return True
        elif who in user.roles:
            return True
    return False


def describe_actors(actors: Iterable[Actor]) -> str:
    names = {
        Party.ASSIGNEE: _("the assignee"),
        Party.SUBMITTER: _("the submitter"),
    }
    parts = [names[w] if isinstance(w, Party) else str(w.label) for w in actors]
    if not parts:
        return _("opsdesk (the worker)")
    return ", ".join(sorted(str(part) for part in parts))


def available_actions(user: User, ticket: Ticket) -> list[workflow.Transition]:
    """The actions ``user`` may take on ``ticket`` right now, in table order: those whose
    rules (the reopening window) allow them now."""
    now = timezone.now()
    return [
        t
        for t in workflow.TRANSITIONS
        if ticket.status in t.sources and is_one_of(user, ticket, t.by)
        and t.refusal(ticket, now) is None
    ]


def editable_fields(user: User, ticket: Ticket) -> set[str]:
    return {
        fld.name
        for edit in workflow.EDITS
        if edit.applies(ticket) and is_one_of(user, ticket, edit.by)
        for fld in edit.fields
    }


# Who may pull developers and ops engineers into a ticket, or release them.
COLLABORATOR_MANAGERS: frozenset[Actor] = frozenset({Party.ASSIGNEE, Role.DUTY, Role.HEAD})


def may_manage_collaborators(user: User, ticket: Ticket) -> bool:
    return not ticket.is_read_only and is_one_of(user, ticket, COLLABORATOR_MANAGERS)


def is_collaborator(user: User, ticket: Ticket) -> bool:
    return any(u.pk == user.pk for u in ticket.collaborators.all())


def may_log_work(user: User, ticket: Ticket) -> bool:
    """Whether ``user`` may record an executed step now (the service says why not, if not):
    the assignee or a collaborator, while a plan is in progress."""
    return (
        ticket.status in workflow.EXECUTION_STATES
        and ticket.current_plan_id is not None
        and (ticket.assignee_id == user.pk or is_collaborator(user, ticket))
    )


def may_report_recurrence(user: User, ticket: Ticket) -> bool:
    """Whether "it happened again" files a new ticket: for the submitter and staff, once the
    closed ticket can no longer be reopened (``services.report_recurrence`` says why not)."""
    reopen = workflow.BY_NAME["reopen"]
    return (
        ticket.is_read_only
        and (ticket.submitter_id == user.pk or user.is_department_staff)
        and reopen.refusal(ticket, timezone.now()) is not None
    )
