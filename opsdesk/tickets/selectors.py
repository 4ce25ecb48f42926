"""Reads of tickets, shaped for their screens: visibility, filters, keyset pages, timelines."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.errors import InvalidField, NotFound
from opsdesk.tickets.models import Attachment, Ticket, TimelineEvent


def visible_tickets(user: User) -> QuerySet[Ticket]:
    """The tickets ``user`` may read: all for A, B, C, F and admins; otherwise their own,
    those assigned to them and those they collaborate on."""
    tickets = Ticket.objects.all()
    if user.sees_all_tickets:
        return tickets
    collaborating = Ticket.collaborators.through.objects.filter(
        ticket_id=OuterRef("pk"), user_id=user.pk
    )
    return tickets.filter(Q(submitter=user) | Q(assignee=user) | Exists(collaborating))


MAX_ID = 2**63 - 1  # the largest BigAutoField value; a larger number cannot name a ticket


def ticket_id_from_key(key: str) -> int:
    """``OPS-42`` (or ``42``) to 42."""
    prefix = settings.OPSDESK_TICKET_KEY_PREFIX + "-"
    number = key[len(prefix):] if key.upper().startswith(prefix.upper()) else key
    if not number.isascii() or not number.isdigit() or int(number) > MAX_ID:
        raise NotFound(_("No such ticket: %s.") % key)
    return int(number)


def get_ticket(*, user: User, key: str) -> Ticket:
    """One ticket with everything its page shows; NotFound if it does not exist or
    ``user`` may not read it (so its existence is not revealed)."""
    ticket = (
        visible_tickets(user)
        .select_related("assignee", "submitter", "module", "current_plan", "sla_clock__policy")
        .prefetch_related("collaborators")
        .filter(pk=ticket_id_from_key(key))
        .first()
    )
    if ticket is None:
        raise NotFound(_("No such ticket: %s.") % key)
    return ticket


@dataclass(frozen=True)
class TicketFilters:
    status: list[str] | None = None
    priority: list[str] | None = None
    assignee: str | None = None
    assignee_ids: tuple[int, ...] | None = None  # any of these people (a team's queue)
    module: str | None = None
    problem_type: str | None = None
    source_kind: str | None = None
    submitter: str | None = None
    text: str | None = None
    sla: str | None = None  # "at_risk" or "breached"


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    next_cursor: str | None


# Orderings that keyset pagination supports: columns, each descending or not.
ORDERINGS: dict[str, tuple[tuple[str, bool], ...]] = {
    "-id": (("id", True),),
    "id": (("id", False),),
    "priority": (("priority", False), ("id", True)),
    # The SLA queues' own order (sla=breached|at_risk only, and their default): by due time,
    # the most overdue or the next to breach first. It is the clock's (breach_at, ticket) index
    # read in order, so a page costs the same at any size; newest first would sort or skip
    # every ticket of the queue. bench/README.md.
    "due": (("sla_clock__breach_at", False), ("sla_clock__ticket_id", False)),
}
# Ordering columns holding a moment: in a cursor as microseconds since the epoch.
MOMENTS = frozenset({"sla_clock__breach_at"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidField("cursor", field="cursor") from exc
    # Every ordering column is an integer; anything else is a forged or corrupted cursor.
    if (
        not isinstance(values, list) or len(values) != size
        or not all(isinstance(v, int) and not isinstance(v, bool) and abs(v) <= MAX_ID
                   for v in values)
    ):
        raise InvalidField("cursor", field="cursor")
    return values


def _cursor_values(item: Ticket, columns: tuple[tuple[str, bool], ...]) -> list[int]:
    values = []
    for name, _desc in columns:
        value: Any = item
        for part in name.split("__"):
            value = getattr(value, part)
        values.append((value - EPOCH) // MICROSECOND if name in MOMENTS else value)
    return values


def _after(columns: tuple[tuple[str, bool], ...], raw: list[int]) -> Q:
    """Rows strictly after ``raw`` (a cursor's values) in the ordering: (a > x) or (a = x and
    b > y) ..., and a ≥ x spelled out, so that the database starts an index range there."""
    values: list[Any] = list(raw)
    for i, (name, _desc) in enumerate(columns):
        if name in MOMENTS:
            try:
                values[i] = EPOCH + values[i] * MICROSECOND
            except OverflowError as exc:
                raise InvalidField("cursor", field="cursor") from exc
    q = Q()
    for i, (name, desc) in enumerate(columns):
        equal = {columns[j][0]: values[j] for j in range(i)}
        q |= Q(**equal, **{f"{name}__{'lt' if desc else 'gt'}": values[i]})
    if len(columns) > 1:
        first, desc = columns[0]
        q &= Q(**{f"{first}__{'lte' if desc else 'gte'}": values[0]})
    return q


def _apply_filters(tickets: QuerySet[Ticket], filters: TicketFilters) -> QuerySet[Ticket]:
    if filters.sla:
        tickets = tickets.filter(_sla_q(filters.sla))
    if filters.status:
        tickets = tickets.filter(status__in=filters.status)
    if filters.priority:
        try:
            ranks = [Priority.from_code(p) for p in filters.priority]
        except KeyError as exc:
            raise InvalidField(f"priority: {exc.args[0]}", field="priority") from exc
        tickets = tickets.filter(priority__in=ranks)
    if filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        tickets = tickets.filter(_user_q("assignee", filters.assignee))
    if filters.assignee_ids is not None:
        tickets = tickets.filter(assignee_id__in=filters.assignee_ids)
    if filters.submitter:
        tickets = tickets.filter(_user_q("submitter", filters.submitter))
    if filters.problem_type:
        tickets = tickets.filter(problem_type=filters.problem_type)
    if filters.module:
        # The module's id first: a filter on module_id walks an index in page order, where an
        # OR over the joined code and name made the database sort all the module's tickets.
        module = get_module_by_ref(filters.module)
        tickets = tickets.filter(module_id=module.pk) if module else tickets.none()
    if filters.source_kind:
        tickets = tickets.filter(source_kind=filters.source_kind)
    if filters.text:
        text = filters.text.strip()
        matches = Q(title__icontains=text) | Q(description__icontains=text)
        try:
            # A key finds its ticket; a bare number ("502") may also be in the text.
            tickets = tickets.filter(Q(pk=ticket_id_from_key(text)) | matches)
        except NotFound:
            tickets = tickets.filter(matches)
    return tickets


def _sla_q(state: str) -> Q:
    """The SLA queues, as ranges over the indexed summary columns the SLA app keeps."""
    now = timezone.now()
    if state == "breached":
        return Q(sla_clock__breach_at__lte=now)
    if state == "at_risk":
        return Q(sla_clock__warn_at__lte=now, sla_clock__breach_at__gt=now)
    raise InvalidField(_("sla must be at_risk or breached."), field="sla")


def _user_q(relation: str, ref: str) -> Q:
    if ref.isdigit():
        return Q(**{f"{relation}_id": int(ref)})
    return Q(**{f"{relation}__username": ref})


LONG_TEXTS = (
    "description", "steps_to_reproduce", "error_message", "impact_scope", "alert_symptom",
    "analysis_notes", "cause", "solution", "prevention", "verification_evidence",
)


def list_tickets(
    *, user: User, filters: TicketFilters, order: str | None = None, cursor: str | None = None,
    limit: int = 50, columns: tuple[str, ...] | None = None,
) -> Page:
    """One page of the tickets ``user`` may read, filtered, in a stable keyset order: by
    default newest first, and an SLA queue by due time. ``columns`` (``"module__name"`` for a
    related one) loads only those, for a screen that shows a few: building fifty full tickets
    and their relations costs more than the query."""
    if order is None:
        order = "due" if filters.sla else "-id"
    ordering = ORDERINGS.get(order)
    if ordering is None or (order == "due" and not filters.sla):
        raise InvalidField(f"order: {order}", field="order")
    limit = max(1, min(limit, settings.OPSDESK_PAGE_SIZE_MAX))
    tickets = _apply_filters(visible_tickets(user), filters)
    if cursor:
        tickets = tickets.filter(_after(ordering, _decode_cursor(cursor, len(ordering))))
    if columns is None:
        # A list item (the API's TicketListItem) shows neither the submitter's account nor
        # the long texts: reading and building them was a third of a page's cost.
        tickets = tickets.select_related("assignee", "module", "sla_clock__policy").defer(
            *LONG_TEXTS
        )
    else:
        needed = {*columns, *(name for name, _desc in ordering)}
        related = {name.rsplit("__", 1)[0] for name in needed if "__" in name}
        tickets = tickets.select_related(*related).only(*needed)
    rows = list(
        tickets.order_by(*(("-" if desc else "") + name for name, desc in ordering))[: limit + 1]
    )
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode_cursor(_cursor_values(items[-1], ordering)) if more else None
    return Page(items=items, next_cursor=next_cursor)


def count_tickets(*, user: User, filters: TicketFilters) -> int:
    """How many tickets ``user`` may read match ``filters`` (a queue's badge)."""
    return _apply_filters(visible_tickets(user), filters).order_by().count()


def awaiting_approval(*, user: User) -> list[Ticket]:
    """Tickets whose plan waits for the department head, oldest first, with the plan."""
    return list(
        visible_tickets(user)
        .filter(status=Status.AWAITING_APPROVAL)
        .select_related("assignee", "module", "current_plan__created_by", "sla_clock__policy")
        .order_by("id")
    )


def timeline(*, user: User, ticket: Ticket) -> QuerySet[TimelineEvent]:
    """The ticket's events in order; internal ones only for department staff."""
    events = TimelineEvent.objects.filter(ticket=ticket).select_related("actor").order_by("id")
    if not user.is_department_staff:
        events = events.filter(internal=False)
    return events


def attachments_for(*, user: User, ticket: Ticket) -> QuerySet[Attachment]:
    """The ticket's files in order; internal ones only for department staff."""
    files = Attachment.objects.filter(ticket=ticket).select_related("uploaded_by")
    if not user.is_department_staff:
        files = files.filter(internal=False)
    return files


def get_attachment(*, user: User, ticket: Ticket, attachment_id: int) -> Attachment:
    attachment = attachments_for(user=user, ticket=ticket).filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("No such attachment."))
    return attachment
