"""Extension points for other apps (routing, SLA clocks, notifications, search).

An app registers callables in its AppConfig.ready(), each at a ``Stage``; the tickets service
calls them inside the same transaction, after the ticket and its timeline event are written,
one stage after another in the order ``Stage`` declares, whatever order the apps are loaded in.
New tickets are handed over together (one alert notification or mail import may file dozens
at once), so that a hook can do its work for all of them in a few statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

from opsdesk.accounts.models import User
from opsdesk.tickets.models import Ticket


class Stage(IntEnum):
    """When a hook runs among the others, earliest first. Each stage builds on the ones
    before it: people are told about a ticket already routed, whose clocks already say what
    is due; search and reviews catch up with what the change became."""

    ROUTING = 10  # who has the ticket
    ALERTS = 20  # the alert behind a ticket notes what became of it
    SERVICE_LEVELS = 30  # the SLA clocks start, pause, stop or move
    NOTIFICATIONS = 40  # the people concerned are told
    SEARCH = 50  # the ticket is found by its new words
    REVIEWS = 60  # a post-incident review follows its ticket


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
H = TypeVar("H", Hook, CreationHook)
# In the order they run: rebuilt from the stages at each registration.
_after_change: list[Hook] = []
_after_creation: list[CreationHook] = []
_change_stages: dict[Stage, Hook] = {}
_creation_stages: dict[Stage, CreationHook] = {}
_around_creation: list[Callable[[], AbstractContextManager[object]]] = []


def on_ticket_change(hook: Hook, *, stage: Stage) -> Hook:
    """Register ``hook`` to run at ``stage`` after every ticket update and action (not
    creation)."""
    _register(hook, stage, _change_stages, _after_change)
    return hook


def on_tickets_created(hook: CreationHook, *, stage: Stage) -> CreationHook:
    """Register ``hook`` to run at ``stage`` once per creation with every ticket it filed."""
    _register(hook, stage, _creation_stages, _after_creation)
    return hook


def _register(hook: H, stage: Stage, stages: dict[Stage, H], in_order: list[H]) -> None:
    # One hook a stage: two would run in whatever order their apps happened to load.
    taken = stages.get(stage)
    if taken is not None and taken != hook:
        raise ValueError(f"{stage.name} already runs {taken.__qualname__}; give "
                         f"{hook.__qualname__} a stage of its own")
    stages[stage] = hook
    in_order[:] = [stages[s] for s in sorted(stages)]


def run_hooks(change: TicketChange) -> None:
    for hook in _after_change:
        hook(change)


def around_creation_hooks(scope: Callable[[], AbstractContextManager[object]]) -> None:
    """Enclose every run of the creation hooks in ``scope()`` (from AppConfig.ready()): what an
    app gathers from several stages, it writes once when the scope ends, in the same
    transaction (notify/services.py ``gathered``)."""
    if scope not in _around_creation:
        _around_creation.append(scope)


def run_creation_hooks(changes: Sequence[TicketChange]) -> None:
    with ExitStack() as scopes:
        for scope in _around_creation:
            scopes.enter_context(scope())
        for hook in _after_creation:
            hook(changes)
