"""Extension points for other apps (SLA clocks, routing, notifications).

An app registers callables in its AppConfig.ready(); the tickets service calls them inside the
same transaction, after the ticket and its timeline event are written. New tickets are handed
over together (one alert notification or mail import may file dozens at once), so that a hook
can do its work for all of them in a few statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsdesk.accounts.models import User
from opsdesk.tickets.models import Ticket


@dataclass(frozen=True)
class TicketChange:
    ticket: Ticket
    actor: User | None
    action: str  # "create", "update" or a workflow action name
    source: str | None
    target: str | None
    changed: dict[str, Any]
    at: datetime
    # What the action's own timeline event says besides the fields it changed (a reason, a
    # comment, the fields a sent-back report lacks, a link), so that a hook need not read it
    # back from the timeline.
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def creation(cls, ticket: Ticket, actor: User | None) -> TicketChange:
        """The change of filing ``ticket`` (what the creation hooks are given)."""
        return cls(ticket, actor, "create", None, ticket.status, {}, ticket.submitted_at)


Hook = Callable[[TicketChange], None]
CreationHook = Callable[[Sequence[TicketChange]], None]
_after_change: list[Hook] = []
_after_creation: list[CreationHook] = []


def on_ticket_change(hook: Hook) -> Hook:
    """Register ``hook`` to run after every ticket update and action (not creation)."""
    if hook not in _after_change:
        _after_change.append(hook)
    return hook


def on_tickets_created(hook: CreationHook) -> CreationHook:
    """Register ``hook`` to run once per creation with every ticket it filed."""
    if hook not in _after_creation:
        _after_creation.append(hook)
    return hook


def run_hooks(change: TicketChange) -> None:
    for hook in _after_change:
        hook(change)


def run_creation_hooks(changes: Sequence[TicketChange]) -> None:
    for hook in _after_creation:
        hook(changes)
