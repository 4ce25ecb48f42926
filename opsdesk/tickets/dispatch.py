"""Dispatching new tickets: what follows the filing of a problem (routing it, starting its SLA
clocks, telling people), done by the creation hooks of tickets/hooks.py.

With ``OPSDESK_DISPATCH=worker`` (the default) filing writes only the ticket and its 'created'
event, marked undispatched, and answers; the worker dispatches what is waiting a moment later,
oldest first and many tickets per transaction, so what a storm or a busy API client files costs
the hooks a few statements per batch instead of per ticket. The SLA clocks start at the
submission time either way. Nothing waits on memory: a crash leaves the mark in the database
for the next worker (runtime/dispatcher.py, to which TicketsConfig.ready() hands
``dispatch_due``). A change to a ticket still waiting dispatches it first (``dispatched_first``),
so nobody's action ever runs ahead of the routing and the clocks.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet

from opsdesk.accounts.models import User
from opsdesk.runtime import config
from opsdesk.tickets.hooks import TicketChange, run_creation_hooks
from opsdesk.tickets.models import Ticket, TimelineEvent

# Tickets per dispatching transaction: enough to share the hooks' statements, few enough that
# the transaction holds SQLite's write lock for a fraction of a second.
BATCH = 50
# Per transaction while reports keep being filed on SQLite, where each filing that comes during
# one waits for it to end: with full batches, a sequential client filed 86–122 tickets/s against
# 167–170 with these and 168–184 with no dispatching at all (bench --quick, one slow morning).
BUSY_BATCH = 5

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class SetAside:
    """Tickets that failed to dispatch on their own (a hook cannot handle them), each held
    back a little longer after every failure, from a second to five minutes, and logged with
    its traceback only the first time: one bad ticket neither floods the log nor slows the
    rest. Kept in the worker's memory: a new worker tries them again at once."""

    first: float = 1.0
    longest: float = 300.0
    held: dict[int, tuple[int, float]] = field(default_factory=dict)  # id → failures, until

    def held_back(self, now: float) -> list[int]:
        return [ticket_id for ticket_id, (_n, until) in self.held.items() if until > now]

    def failed(self, ticket_id: int, now: float) -> int:
        failures = self.held.get(ticket_id, (0, 0.0))[0] + 1
        wait = min(self.first * 2 ** (failures - 1), self.longest)
        self.held[ticket_id] = (failures, now + wait)
        return failures

    def dispatched(self, ticket_id: int) -> None:
        self.held.pop(ticket_id, None)


SET_ASIDE = SetAside()


def dispatch_due(limit: int | None = None) -> int:
    """Dispatch up to ``limit`` (a batch) waiting tickets, oldest first, in one transaction;
    how many. Should the batch fail, each is tried on its own, so that one ticket a hook
    cannot handle is logged and set aside instead of holding back every later one."""
    limit = limit or BATCH
    held = SET_ASIDE.held_back(time.monotonic())
    try:
        with transaction.atomic(), config.one_read():
            waiting = list(_waiting(skip_locked=True).exclude(pk__in=held)
                           .order_by("pk")[:limit])
            dispatch(waiting)
        return len(waiting)
    except (OperationalError, InterfaceError):
        raise  # the database is out of reach: nothing to try one by one
    except Exception:
        log.exception("dispatching a batch of new tickets failed; one by one now")
    done = 0
    for ticket_id in (Ticket.objects.filter(dispatched=False).exclude(pk__in=held)
                      .order_by("pk").values_list("pk", flat=True)[:limit]):
        try:
            dispatch_ticket(ticket_id)
        except (OperationalError, InterfaceError):
            raise
        except Exception as error:
            failures = SET_ASIDE.failed(ticket_id, time.monotonic())
            if failures == 1:
                log.exception("dispatching ticket %s failed; it is set aside and tried again "
                              "later", ticket_id)
            else:
                log.warning("dispatching ticket %s failed again (%d times): %s",
                            ticket_id, failures, error)
        else:
            SET_ASIDE.dispatched(ticket_id)
            done += 1
    return done


def dispatch_all() -> int:
    """Dispatch every waiting ticket (the worker's ``--batch`` run, tests); how many."""
    total = 0
    while done := dispatch_due():
        total += done
    return total


def dispatch_ticket(ticket_id: int) -> None:
    """Dispatch one ticket now, in its own transaction, if it is still waiting."""
    with transaction.atomic():
        dispatch(list(_waiting(skip_locked=False).filter(pk=ticket_id)))


def _waiting(*, skip_locked: bool) -> QuerySet[Ticket]:
    """Tickets waiting for dispatch, locked, with what the hooks read of them."""
    return (Ticket.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .select_related("module", "submitter", "assignee").filter(dispatched=False))


def dispatch(tickets: Sequence[Ticket]) -> None:
    """Run the creation hooks for those of ``tickets`` still waiting (locked by the caller's
    transaction) as their filing would have, and mark them dispatched."""
    tickets = [ticket for ticket in tickets if not ticket.dispatched]
    if not tickets:
        return
    ids = [ticket.pk for ticket in tickets]
    Ticket.objects.filter(pk__in=ids).update(dispatched=True)
    filed_by = dict(
        TimelineEvent.objects.filter(ticket_id__in=ids, kind=TimelineEvent.Kind.CREATED)
        .values_list("ticket_id", "actor_id")
    )
    actors = User.objects.in_bulk({actor for actor in filed_by.values() if actor is not None})
    for ticket in tickets:
        ticket.dispatched = True
    run_creation_hooks([TicketChange.creation(ticket, actors.get(filed_by.get(ticket.pk) or 0))
                        for ticket in tickets])


class WaitingForDispatch(Exception):
    """Raised by a service that found its ticket still waiting for dispatch, before it changed
    anything (``dispatched_first`` dispatches it and runs the service again)."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


def dispatched_first(service: Callable[P, R]) -> Callable[P, R]:
    """Run a service that changes a ticket; if the ticket was still waiting to be dispatched,
    dispatch it first in its own transaction, as the worker would have a moment later, and run
    the service again. Whoever acted on what they saw before the routing moved the ticket is
    then told it changed (their version is stale) and reads the routed ticket; automation
    reads it through ``services.lock_dispatched`` instead, after the dispatch."""

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return service(*args, **kwargs)
        except WaitingForDispatch as waiting:
            dispatch_ticket(waiting.ticket_id)
            return service(*args, **kwargs)

    return run
