"""Extension points for other apps (SLA clocks, routing, notifications).

An app registers a callable in its AppConfig.ready(); the tickets service calls it inside the
same transaction, after the ticket and its timeline event are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


Hook = Callable[[TicketChange], None]
_after_change: list[Hook] = []


def on_ticket_change(hook: Hook) -> Hook:
    """Register ``hook`` to run after every ticket creation, update and action."""
    if hook not in _after_change:
        _after_change.append(hook)
    return hook


def run_hooks(change: TicketChange) -> None:
    for hook in _after_change:
        hook(change)
