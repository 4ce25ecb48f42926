"""Writing imported tickets: each batch in its own transaction, with the tickets' timelines,
comments, import records and search documents, so that a batch is there whole or not at all
and an interrupted import is finished by running it again.

What is written for each issue:

- the ticket, filed at its original creation time (``submitted_at``), by the channel
  "ticket platform", with its submitter matched by name or kept as the name the export gave;
- its 'created' event at that time, saying where it came from (``source: imported``, the
  system and the key there);
- its comments, at their original times, by the people they match or under the names the
  export gave (staff only unless the mapping makes them public), each with its event;
- closed (or archived) issues: a 'transition' event at the original closing time to that state,
  with the original status and resolution; they are never dispatched (no routing, no SLA clock,
  nobody told about old news);
- open issues: new, or assigned when the export's assignee may hold a ticket here (an event at
  the time of import says so), then dispatched like any filed ticket: routed if unassigned,
  their SLA clocks started at their original creation time (so an old open issue arrives
  overdue, as it is), their submitters told the ticket's key;
- the import record (system and key → ticket) that makes a rerun skip the issue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from opsdesk.errors import DomainError
from opsdesk.imports import selectors
from opsdesk.imports.models import ImportedTicket
from opsdesk.imports.people import Person
from opsdesk.imports.plan import Draft, Plan, Refusal
from opsdesk.knowledge.services import reindex_tickets
from opsdesk.runtime import config, rows
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange, run_creation_hooks
from opsdesk.tickets.models import Comment, TimelineEvent
from opsdesk.tickets.services import append_events

Kind = TimelineEvent.Kind
# Rows per transaction: a few hundred tickets with their comments and search documents hold
# SQLite's write lock for well under a second, so the desk keeps answering meanwhile.
BATCH = 200
DONE_STATES = (Status.CLOSED, Status.ARCHIVED)

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    created: list[Draft] = field(default_factory=list)
    # Imported meanwhile by another run of the same export.
    skipped: int = 0
    refusals: list[Refusal] = field(default_factory=list)


def import_plan(*, plan: Plan, batch: int = BATCH,
                progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Write every draft of ``plan``, ``batch`` at a time; ``progress(done, total)`` after each
    batch. A batch that fails is written again one ticket at a time, so one ticket the
    database refuses is reported and the others go in. A database that is out of reach (or
    locked past its timeout) stops the import: what was written stays, and the same command
    run again writes the rest."""
    outcome = Outcome()
    total = len(plan.drafts)
    for start in range(0, total, batch):
        chunk = plan.drafts[start:start + batch]
        try:
            _write(plan, chunk, outcome)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            for draft in chunk:
                _write_alone(plan, draft, outcome)
        if progress is not None:
            progress(min(start + batch, total), total)
    return outcome


def _write_alone(plan: Plan, draft: Draft, outcome: Outcome) -> None:
    """Write one draft of a batch that failed; if it fails too, report it and go on."""
    try:
        _write(plan, [draft], outcome)
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        # The first line: PostgreSQL adds the row's values on the next ones.
        reason = (str(error).strip().splitlines() or [""])[0]
        if not isinstance(error, DatabaseError | DomainError):
            # Not the data: a fault in opsdesk (a creation hook, say). Its traceback is
            # logged; the row is reported like any refusal, and a rerun tries it again.
            log.exception("importing %s (line %d) failed", draft.key, draft.line)
            reason = f"{type(error).__name__}: {reason}"
        outcome.refusals.append(Refusal(draft.line, draft.key, reason))


def _write(plan: Plan, drafts: Sequence[Draft], outcome: Outcome) -> None:
    with transaction.atomic(), config.one_read():
        done = selectors.imported_keys(system=plan.source.system,
                                       keys=[draft.key for draft in drafts])
        fresh = [draft for draft in drafts if draft.key not in done]
        _insert(plan, fresh)
    outcome.created += fresh
    outcome.skipped += len(drafts) - len(fresh)


def _insert(plan: Plan, drafts: Sequence[Draft]) -> None:
    if not drafts:
        return
    inline = settings.OPSDESK_DISPATCH == "inline"
    tickets = []
    for draft in drafts:
        ticket = draft.ticket
        # A failed batch leaves its ids on the instances: this transaction writes them anew.
        ticket.pk, ticket._state.adding = None, True
        ticket.dispatched = inline or ticket.status in DONE_STATES
        tickets.append(ticket)
    rows.insert(tickets)
    now = timezone.now()
    ImportedTicket.objects.bulk_create([
        ImportedTicket(system=plan.source.system, external_key=draft.key, ticket=draft.ticket,
                       file_name=plan.file_name[:255], line=draft.line, imported_at=now,
                       original=draft.original)
        for draft in drafts
    ])
    comments = [
        (draft, Comment(ticket=draft.ticket, author=c.author.user if c.author else None,
                        author_name=_author_name(plan, c.author), body=c.body,
                        internal=not plan.public_comments, created_at=c.at))
        for draft in drafts for c in draft.comments
    ]
    rows.insert([comment for _draft, comment in comments])
    events: list[TimelineEvent] = []
    by_ticket: dict[int, list[TimelineEvent]] = {t.pk: [] for t in tickets}
    for draft, comment in comments:
        by_ticket[comment.ticket_id].append(_comment_event(plan, draft, comment))
    for draft in drafts:
        later = by_ticket[draft.ticket.pk]
        if draft.ticket.status != Status.NEW:
            later.append(_state_event(plan, draft, now))
        events.append(_created_event(plan, draft))
        events += sorted(later, key=lambda event: event.at)
    append_events(events)
    reindex_tickets(ticket_ids=[t.pk for t in tickets])
    opened = [draft for draft in drafts if draft.ticket.status not in DONE_STATES]
    if inline and opened:
        run_creation_hooks([TicketChange.creation(d.ticket, d.reporter) for d in opened])


def _author_name(plan: Plan, person: Person | None) -> str:
    if person is None:
        return plan.source.label
    return "" if person.user else person.name[:255]


def _origin(plan: Plan, draft: Draft) -> dict[str, str]:
    return {"source": "imported", "system": plan.source.system.value, "key": draft.key,
            "reference": draft.reference}


def _created_event(plan: Plan, draft: Draft) -> TimelineEvent:
    ticket = draft.ticket
    return TimelineEvent(
        ticket=ticket, kind=Kind.CREATED, actor=draft.reporter, at=ticket.submitted_at,
        data={"priority": ticket.priority_code, "source_kind": ticket.source_kind,
              "channel": ticket.channel, **_origin(plan, draft), "original": draft.original},
    )


def _comment_event(plan: Plan, draft: Draft, comment: Comment) -> TimelineEvent:
    data: dict[str, Any] = {"comment": comment.pk, "body": comment.body,
                            "internal": comment.internal, **_origin(plan, draft)}
    if comment.author is None:
        data["from"] = comment.author_name
    return TimelineEvent(ticket=draft.ticket, kind=Kind.COMMENT, actor=comment.author,
                         at=comment.created_at, internal=comment.internal, data=data)


def _state_event(plan: Plan, draft: Draft, now: datetime) -> TimelineEvent:
    """How the issue came to be closed (at its closing time, by whoever closed it there), or
    assigned (by this import, now)."""
    ticket = draft.ticket
    data: dict[str, Any] = {"action": "import", "from": Status.NEW, "to": ticket.status,
                            **_origin(plan, draft)}
    if ticket.assignee is not None:
        data["changed"] = {"assignee": {"from": None, "to": {
            "id": ticket.assignee.pk, "username": ticket.assignee.username,
            "name": str(ticket.assignee)}}}
    if draft.closing_note:
        data["note"] = draft.closing_note
    if ticket.closed_at is not None:
        return TimelineEvent(ticket=ticket, kind=Kind.TRANSITION, actor=draft.closer,
                             at=ticket.closed_at, data=data)
    return TimelineEvent(ticket=ticket, kind=Kind.TRANSITION, actor=None, at=now, data=data)
