"""The workspace's queues: each a name, a label and the ticket filters it stands for.

Which tickets a person may read is the selectors' business; a queue only narrows that down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import ASSIGNABLE_ROLES, Role
from opsdesk.notify.selectors import teammate_ids
from opsdesk.tickets.choices import OPEN_STATUSES, Status
from opsdesk.tickets.selectors import TicketFilters

OPEN = list(OPEN_STATUSES)
# What a row of a queue shows: the key, title, priority, status, SLA, assignee, module, time.
ROW_COLUMNS = (
    "title", "priority", "status", "submitted_at", "assignee__username",
    "assignee__display_name", "assignee__first_name", "assignee__last_name", "module__name",
    "sla_clock__breach_at", "sla_clock__warn_at", "sla_clock__paused_at",
)


@dataclass(frozen=True)
class Queue:
    name: str
    label: Promise
    filters: TicketFilters
    counted: bool = True


def queues_for(user: User) -> list[Queue]:
    """The queues ``user`` works from, in the order the sidebar shows them."""
    if user.has_role(*ASSIGNABLE_ROLES, Role.DUTY, Role.HEAD):
        mine = TicketFilters(status=OPEN, assignee=str(user.pk))
    else:  # developers and ops engineers: what they were pulled into (their visibility)
        mine = TicketFilters(status=OPEN)
    found = [Queue("mine", _("My tickets"), mine)]
    if user.sees_all_tickets:
        teammates = teammate_ids(user)
        if teammates:
            found.append(Queue("team", _("My team's"),
                               TicketFilters(status=OPEN, assignee_ids=teammates)))
        found += [
            Queue("unassigned", _("Unassigned"), TicketFilters(status=[Status.NEW])),
            Queue("approval", _("Waiting for approval"),
                  TicketFilters(status=[Status.AWAITING_APPROVAL])),
            Queue("at_risk", _("At risk"), TicketFilters(sla="at_risk")),
            Queue("breached", _("Breached"), TicketFilters(sla="breached")),
        ]
    found.append(Queue("all", _("All tickets"), TicketFilters(), counted=False))
    return found


def combine(queue: Queue, chosen: TicketFilters) -> TicketFilters:
    """The queue's filters narrowed by what the person chose in the filter bar."""
    base = queue.filters
    status = base.status
    if chosen.status:
        # Within a queue of some states, a status filter can only narrow it ("none" matches
        # no ticket: the person asked for a state this queue never holds).
        status = [s for s in chosen.status if not base.status or s in base.status] or ["none"]
    return replace(
        base,
        status=status,
        priority=chosen.priority,
        assignee=chosen.assignee or base.assignee,
        module=chosen.module,
        problem_type=chosen.problem_type,
        source_kind=chosen.source_kind,
        text=chosen.text,
    )
