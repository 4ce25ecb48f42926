"""Reads of tickets, shaped for their screens: visibility, filters, keyset pages, timelines."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    Field,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.bounds import MAX_ID, positive_int
from opsdesk.knowledge import selectors as search
from opsdesk.knowledge.words import Query
from opsdesk.sla.models import Clock
from opsdesk.tickets.choices import OPEN_STATUSES, STILL_OPEN, LinkKind, Priority, Status
from opsdesk.tickets.errors import InvalidField, NotFound
from opsdesk.tickets.models import Attachment, Ticket, TicketLink, TimelineEvent, WorkLogStep

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

OPEN = frozenset(OPEN_STATUSES)


class Unindexed(Func):
    """A column that SQLite's planner may not pick an index for (unary +); itself elsewhere."""

    output_field: Field[Any, Any] = CharField()

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               *args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"+{sql}" if connection.vendor == "sqlite" else sql), list(params)


class Unestimated(Unindexed):
    """A moment column that neither database reads an index for nor estimates from its
    statistics: to the planner an expression (unary + on SQLite, plus a zero interval on
    PostgreSQL), whose comparisons get the default estimate."""

    output_field: Field[Any, Any] = DateTimeField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               *args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
        if connection.vendor != "postgresql":
            return super().as_sql(compiler, connection, *args, **kwargs)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} + INTERVAL '0 seconds')", list(params)


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


def ticket_id_from_key(key: str) -> int:
    """``OPS-42`` (or ``42``) to 42."""
    prefix = settings.OPSDESK_TICKET_KEY_PREFIX + "-"
    number = key[len(prefix):] if key.upper().startswith(prefix.upper()) else key
    ticket_id = positive_int(number)
    if ticket_id is None:
        raise NotFound(_("No such ticket: %s.") % key)
    return ticket_id


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
    status: Sequence[str] | None = None
    priority: Sequence[str] | None = None
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


def _apply_filters(tickets: QuerySet[Ticket], filters: TicketFilters, user: User, *,
                   due_order: bool = False) -> QuerySet[Ticket]:
    """``tickets`` narrowed by ``filters``; ``due_order``: for a page of an SLA queue read in
    its due order (``ORDERINGS["due"]``)."""
    if filters.sla:
        tickets = tickets.filter(_sla_q(filters.sla, due_order=due_order))
    if filters.status and len(filters.status) > 1 and set(filters.status) <= OPEN:
        # Open states only: stated as the open queues' partial indexes state it, so that a
        # page reads 50 of their entries; the list itself is kept from choosing an index
        # (SQLite took the (status, id) one, read every open ticket and sorted them).
        tickets = tickets.alias(listed_status=Unindexed("status")).filter(
            STILL_OPEN, listed_status__in=filters.status)
    elif filters.status:
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
        matches = Q(pk__in=search.matching_ids(query=Query.parse(filters.text),
                                               staff=user.is_department_staff))
        key = _key_in(filters.text)
        # A key finds its ticket; a bare number ("502") may also be in the text.
        tickets = tickets.filter(matches | Q(pk=key) if key else matches)
    return tickets


def _key_in(text: str) -> int | None:
    try:
        return ticket_id_from_key(text.strip())
    except NotFound:
        return None


def _sla_q(state: str, *, due_order: bool = False, clock: str = "sla_clock__") -> Q:
    """The SLA queues, as ranges over the indexed summary columns the SLA app keeps (of the
    tickets' clocks, or with ``clock=""`` of clocks)."""
    now = timezone.now()
    if state == "breached":
        return Q(**{f"{clock}breach_at__lte": now})
    if state == "at_risk":
        if not due_order:  # the warned clocks (sla_warn_breach), those not yet breached
            return Q(**{f"{clock}warn_at__lte": now, f"{clock}breach_at__gt": now})
        # A page in due order walks the (breach_at, ticket) index and stops at the page's end
        # (0.7 ms with 100,000 open tickets). Stated plainly, PostgreSQL takes the two ranges
        # as independent, expects an eighth of the real queue and instead reads and sorts
        # every at-risk clock (28 ms, growing with the queue); compared as an expression, the
        # warning gets the default estimate, which keeps the walk.
        return Q(Q(**{f"{clock}breach_at__gt": now}),
                 LessThanOrEqual(Unestimated(f"{clock}warn_at"), now))
    raise InvalidField(_("sla must be at_risk or breached."), field="sla")


def _user_q(relation: str, ref: str) -> Q:
    if (user_id := positive_int(ref)) is not None:
        return Q(**{f"{relation}_id": user_id})
    return Q(**{f"{relation}__username": ref})


_TICKET_CLOCK = Ticket.sla_clock.related  # the one-to-one, as the ticket caches it
_CLOCK_TICKET = Clock.ticket.field

LONG_TEXTS = (
    "description", "steps_to_reproduce", "error_message", "impact_scope", "alert_symptom",
    "analysis_notes", "cause", "solution", "prevention", "verification_evidence",
)


def list_tickets(
    *, user: User, filters: TicketFilters, order: str | None = None, cursor: str | None = None,
    limit: int = 50, columns: tuple[str, ...] | None = None,
) -> Page:
    """One page of the tickets ``user`` may read, filtered, in a stable keyset order: by
    default newest first, an SLA queue by due time, and a search (``filters.text``) best match
    first. ``columns`` (``"module__name"`` for a related one) loads only those, for a screen
    that shows a few: building fifty full tickets and their relations costs more than the
    query. With a search, each ticket gets ``highlights`` (``knowledge.selectors``)."""
    if order is None:
        order = "rank" if filters.text else "due" if filters.sla else "-id"
    if order == "rank":
        if not filters.text:
            raise InvalidField(_("order=rank needs a text to search for."), field="order")
        return _ranked_page(user=user, filters=filters, cursor=cursor,
                            limit=max(1, min(limit, settings.OPSDESK_PAGE_SIZE_MAX)),
                            columns=columns)
    ordering = ORDERINGS.get(order)
    if ordering is None or (order == "due" and not filters.sla):
        raise InvalidField(f"order: {order}", field="order")
    limit = max(1, min(limit, settings.OPSDESK_PAGE_SIZE_MAX))
    tickets = _apply_filters(visible_tickets(user), filters, user, due_order=order == "due")
    if cursor:
        tickets = tickets.filter(_after(ordering, _decode_cursor(cursor, len(ordering))))
    tickets = _shaped(tickets, columns, ordering)
    rows = _without_cycles(list(
        tickets.order_by(*(("-" if desc else "") + name for name, desc in ordering))[: limit + 1]
    ))
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode_cursor(_cursor_values(items[-1], ordering)) if more else None
    if filters.text:
        _highlight(user, filters.text, items)
    return Page(items=items, next_cursor=next_cursor)


def _shaped(tickets: QuerySet[Ticket], columns: tuple[str, ...] | None,
            ordering: tuple[tuple[str, bool], ...]) -> QuerySet[Ticket]:
    if columns is None:
        # A list item (the API's TicketListItem) shows neither the submitter's account nor
        # the long texts: reading and building them was a third of a page's cost.
        return tickets.select_related("assignee", "module", "sla_clock__policy").defer(
            *LONG_TEXTS
        )
    needed = {*columns, *(name for name, _desc in ordering)}
    related = {name.rsplit("__", 1)[0] for name in needed if "__" in name}
    return tickets.select_related(*related).only(*needed)


def _without_cycles(tickets: list[Ticket]) -> list[Ticket]:
    """``tickets`` with their clocks' cached links back to them dropped. ``select_related``
    links a one-to-one both ways, and a ticket and its clock referring to each other left
    every page's tickets, with all they hold, to the cycle collector (600 objects a page):
    kept until collections that took milliseconds, the slowest pages of a queue."""
    for ticket in tickets:
        clock = _TICKET_CLOCK.get_cached_value(ticket, default=None)
        if clock is not None and _CLOCK_TICKET.is_cached(clock):
            _CLOCK_TICKET.delete_cached_value(clock)
    return tickets


def _ranked_page(*, user: User, filters: TicketFilters, cursor: str | None, limit: int,
                 columns: tuple[str, ...] | None) -> Page:
    """A page of a search, best match first (``knowledge.selectors.ranked``); the cursor
    holds the last ticket's score and id. A ticket's key typed as the text ranks it first.
    Scores move when the archive changes, so a page read after a change may repeat or miss a
    ticket near its edge, as any relevance ranking would."""
    text = filters.text or ""
    tickets = _apply_filters(visible_tickets(user), replace(filters, text=None), user)
    after = search.Hit(*_decode_cursor(cursor, 2)) if cursor else None
    hits = search.ranked(tickets=tickets, query=Query.parse(text),
                         staff=user.is_department_staff, first=_key_in(text), after=after,
                         limit=limit + 1)
    page = [hit.ticket_id for hit in hits[:limit]]
    loaded = {t.pk: t for t in _without_cycles(list(_shaped(tickets, columns, ())
                                                      .filter(pk__in=page)))}
    items = [loaded[ticket_id] for ticket_id in page if ticket_id in loaded]
    _highlight(user, text, items)
    last = hits[limit - 1] if len(hits) > limit else None
    return Page(items=items,
                next_cursor=_encode_cursor([last.score, last.ticket_id]) if last else None)


def _highlight(user: User, text: str, items: list[Ticket]) -> None:
    marks = search.highlights(ticket_ids=[t.pk for t in items], query=Query.parse(text),
                              staff=user.is_department_staff)
    for ticket in items:
        ticket.highlights = marks[ticket.pk]  # type: ignore[attr-defined]


def count_tickets(*, user: User, filters: TicketFilters) -> int:
    """How many tickets ``user`` may read match ``filters``."""
    return _apply_filters(visible_tickets(user), filters, user).order_by().count()


def count_each(*, user: User, filters: Sequence[TicketFilters], up_to: int) -> list[int]:
    """For each of ``filters``, how many tickets ``user`` may read match it, counted no
    further than ``up_to`` + 1 (queue badges: their cost then does not grow with the queues).
    One statement for all: on PostgreSQL each statement is a round trip."""
    if not filters:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for number, one in enumerate(filters):
        sql, args = _counted(user, one)[:up_to + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{number})")
        params += args
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return [int(n) for n in cursor.fetchone()]


def _counted(user: User, filters: TicketFilters) -> QuerySet[Any]:
    """The ids to count for ``filters``. An SLA queue of someone who sees every ticket is
    counted from the clocks' indexes alone (each clock has its ticket): joined to the tickets,
    PostgreSQL started parallel workers for a thousand rows (2 ms against 0.3)."""
    if filters.sla and user.sees_all_tickets and filters == TicketFilters(sla=filters.sla):
        return Clock.objects.filter(_sla_q(filters.sla, clock="")).values("ticket_id")
    return _apply_filters(visible_tickets(user), filters, user).order_by().values("pk")


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


def change_mark(*, version: int, dispatched: bool, latest_event_id: int) -> str:
    """What a ticket's page shows changes when this does: a new event the reader may see, a
    new version, or the ticket just filed having been routed."""
    return f"{version}.{int(dispatched)}.{latest_event_id}"


def current_change_mark(*, user: User, key: str) -> str:
    """``change_mark`` of the ticket as it is now, read in two indexed queries; NotFound if
    ``user`` may not read it (an open page polls this: it must stay cheap)."""
    row = (visible_tickets(user).filter(pk=ticket_id_from_key(key))
           .values("pk", "version", "dispatched").first())
    if row is None:
        raise NotFound(_("No such ticket: %s.") % key)
    events = TimelineEvent.objects.filter(ticket_id=row["pk"])
    if not user.is_department_staff:
        events = events.filter(internal=False)
    latest = events.order_by("-id").values_list("id", flat=True).first() or 0
    return change_mark(version=row["version"], dispatched=row["dispatched"],
                       latest_event_id=latest)


def latest_event_id() -> int:
    """The newest event of any ticket: it moves whenever a ticket is filed or changes (every
    change is on a timeline), so an open queue that saw it has nothing new to show."""
    return TimelineEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def work_log(*, user: User, ticket: Ticket) -> QuerySet[WorkLogStep]:
    """The steps executed on the ticket in order; internal ones only for department staff."""
    steps = WorkLogStep.objects.filter(ticket=ticket).select_related("plan", "executed_by")
    if not user.is_department_staff:
        steps = steps.filter(internal=False)
    return steps


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


@dataclass(frozen=True)
class LinkView:
    """A link as one of its tickets shows it: which way it reads from there, and the other
    ticket (its title and status only for a viewer who may see it)."""

    link: TicketLink
    direction: str  # "outgoing": this ticket is <kind> the other; "incoming": the reverse
    other: Ticket
    other_visible: bool

    @property
    def label(self) -> str:
        kind = LinkKind(self.link.kind)
        return str(kind.label) if self.direction == "outgoing" else kind.inverse_label


def links_of(*, user: User, ticket: Ticket) -> list[LinkView]:
    """The ticket's links both ways, oldest first, in two queries."""
    found = (TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
             .select_related("source", "target", "created_by").order_by("id"))
    views = []
    visible = set(visible_tickets(user).filter(
        Q(links_out__target=ticket) | Q(links_in__source=ticket)).values_list("pk", flat=True))
    for link in found:
        outgoing = link.source_id == ticket.pk
        other = link.target if outgoing else link.source
        views.append(LinkView(link, "outgoing" if outgoing else "incoming", other,
                              other.pk in visible))
    return views


@dataclass(frozen=True)
class PersonTime:
    person: User
    minutes: int


@dataclass(frozen=True)
class TimeTaken:
    """The time a ticket took, from its work log (every round of work) beside the figures
    reported at each resolution."""

    logged_minutes: int
    by_person: list[PersonTime]  # empty for a reader outside the department
    steps_without_duration: int
    reported: list[dict[str, Any]]  # each resolution: round, at, by (staff only), minutes


def time_taken(*, user: User, ticket: Ticket) -> TimeTaken:
    """Minutes logged overall, and each resolution's reported figure (with any later
    correction), oldest first; for department staff also per person and who reported each
    figure. The total counts internal steps too, but nobody outside the department learns from
    it who worked on the ticket."""
    per_person = list(WorkLogStep.objects.filter(ticket=ticket, duration_minutes__isnull=False)
                      .values("executed_by").annotate(minutes=Sum("duration_minutes"))
                      .order_by("-minutes", "executed_by"))
    logged = sum(row["minutes"] for row in per_person)
    unknown = WorkLogStep.objects.filter(ticket=ticket, duration_minutes__isnull=True).count()
    reported = _reported_figures(ticket)
    if not user.is_department_staff:
        return TimeTaken(logged, [], unknown, [{**figure, "by": None} for figure in reported])
    people = User.objects.in_bulk([row["executed_by"] for row in per_person])
    by_person = [PersonTime(people[row["executed_by"]], row["minutes"]) for row in per_person]
    return TimeTaken(logged, by_person, unknown, reported)


def _reported_figures(ticket: Ticket) -> list[dict[str, Any]]:
    events = (TimelineEvent.objects.filter(ticket=ticket)
              .filter(Q(data__action="resolve") | Q(data__changed__has_key="time_taken_minutes"))
              .select_related("actor").order_by("id"))
    figures = []
    for event in events:
        change = event.data.get("changed", {}).get("time_taken_minutes") or {}
        if event.data.get("action") == "resolve":
            reported = (event.data.get("time_taken") or {}).get("reported_minutes")
            figures.append({"round": event.data.get("round"), "at": event.at,
                            "by": event.actor, "minutes": reported or change.get("to"),
                            "corrected": False})
        elif change:
            figures.append({"round": figures[-1]["round"] if figures else None,
                            "at": event.at, "by": event.actor, "minutes": change.get("to"),
                            "corrected": True})
    return figures
