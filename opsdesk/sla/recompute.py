"""Recomputing many open clocks at once, after a change of their calendar or of the policies.

A department's calendar may carry a hundred thousand open tickets, so the clocks are read in
a few queries, computed in Python with each calendar's arithmetic loaded once, and written
back in bulk with one timeline event per ticket whose deadline moved and a timer for each new
next threshold. Used by ``services``, inside the transaction of the change.

A ticket's action moves its clock meanwhile (a pause, a resolution): each chunk of clocks is
locked before it is read, so that what is written back was computed from the clock as it is
(PostgreSQL: row locks, which that action holds as well; SQLite: the change's transaction holds
the database's write lock from its start, ``BEGIN IMMEDIATE``, so no action writes meanwhile).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import connection, models
from django.db.models import F, Field, Q, QuerySet

from opsdesk.runtime.tasks import enqueue_many
from opsdesk.sla import clocks, selectors
from opsdesk.sla.calendars import WorkCalendar
from opsdesk.sla.models import BusinessCalendar, Clock, Notice, SlaPolicy
from opsdesk.sla.targets import Target
from opsdesk.tickets.choices import OPEN_STATUSES, STILL_OPEN
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import append_events

# Every clock of a ticket not yet closed may still run: running, paused, or stopped while the
# fix awaits verification (a rejected fix restarts it with the targets of that moment).
# What a recomputation may change; written back for every clock that changed.
WRITTEN = ("policy", "calendar", "warning_fraction", "response_target", "resolution_target",
           "response_days", "resolution_days", "response_spent", "resolution_spent",
           "running_since", "response_due_at", "resolution_due_at", "warn_at", "breach_at",
           "next_check_at", "timer_at", "horizon_at")
# Of those, what a calendar change may change (its policy and time spent stay).
BY_CALENDAR = ("response_target", "resolution_target", "response_due_at", "resolution_due_at",
               "warn_at", "breach_at", "next_check_at", "timer_at", "horizon_at")
_FIELDS = {f.name: f for f in Clock._meta.concrete_fields if f.name in WRITTEN}
_ATTNAMES = {name: _FIELDS[name].attname for name in WRITTEN}
CHUNK = 900  # ids per IN (…): under the SQLite builds that allow only 999 parameters


@dataclass(frozen=True)
class Change:
    """Why the clocks are recomputed, as the timeline tells it."""

    reason: str  # "calendar_changed" or "policy_changed"
    now: datetime
    calendar: str | None = None


def open_clock_ids(which: Q) -> list[int]:
    """The tickets not yet closed whose clocks are ``which`` (found through the tickets' status
    index)."""
    open_tickets = Ticket.objects.filter(STILL_OPEN).values("id")
    found = Clock.objects.filter(which, ticket_id__in=open_tickets).order_by("ticket_id")
    return list(found.values_list("ticket_id", flat=True))


def _fired(ticket_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """The thresholds already fired for each of these tickets, in one query."""
    fired: dict[int, set[tuple[str, str]]] = defaultdict(set)
    rows = Notice.objects.filter(ticket_id__in=ticket_ids)
    for ticket_id, kind, threshold in rows.values_list("ticket_id", "clock", "threshold"):
        fired[ticket_id].add((kind, threshold))
    return fired


Recount = Callable[[Clock, set[tuple[str, str]]], None]


def on_calendar(calendar: BusinessCalendar, change: Change, since: date | None) -> int:
    """``calendar`` changed (hours, lunch, 24×7, zone, overrides): every open clock on it is
    counted again by the new rules, the time already run included (the calendar says when the
    department works, and an edit corrects that). ``since``: the change concerns only that day
    and later ones (overrides), so clocks that count no further are left alone. Returns how
    many deadlines moved."""
    work = selectors.get_work_calendar(calendar=calendar)
    which = Q(calendar=calendar)
    if since is not None:
        start = datetime.combine(since, time(0), tzinfo=work.hours.tz)
        which &= Q(horizon_at__gte=start) | Q(horizon_at__isnull=True)

    def recount(clock: Clock, fired: set[tuple[str, str]]) -> None:
        clocks.refresh_business_targets(clock, work)
        clocks.refresh_due_times(clock, work, fired)

    return _recompute(open_clock_ids(which), Clock.objects.filter(which), recount, change,
                      BY_CALENDAR)


def on_policies(change: Change) -> int:
    """The policies changed (targets, calendar, conditions, order, enabled, one added or
    removed): every open ticket is matched again, and each clock whose policy or targets are
    no longer what the match says is moved onto it, the time already spent kept. A ticket no
    policy matches any more keeps the targets it had. Returns how many deadlines moved."""
    calendars = _Calendars()
    with_ticket = Clock.objects.annotate(
        ticket_priority=F("ticket__priority"), ticket_source=F("ticket__source_kind"),
        ticket_module=F("ticket__module_id"))

    def rematch(clock: Clock, fired: set[tuple[str, str]]) -> None:
        ticket: Any = clock  # the annotations
        policy = selectors.policy_matching(
            priority=ticket.ticket_priority, source_kind=ticket.ticket_source,
            module_id=ticket.ticket_module)
        if policy is None or follows(clock, policy):
            return
        clocks.switch_policy(clock, policy, before=calendars.of(clock.calendar_id),
                             after=calendars.of(policy.calendar_id), now=change.now)
        clocks.refresh_due_times(clock, calendars.of(clock.calendar_id), fired)

    return _recompute(open_clock_ids(Q()), with_ticket, rematch, change, WRITTEN)


def follows(clock: Clock, policy: SlaPolicy) -> bool:
    """Whether ``clock`` already has exactly ``policy``'s targets (and calendar)."""
    return (
        clock.policy_id == policy.pk
        and clock.calendar_id == policy.calendar_id
        and clock.warning_fraction == policy.warning_fraction
        and _same(clocks.response_target(clock), policy.response)
        and _same(clocks.resolution_target(clock), policy.resolution)
    )


def _same(a: Target, b: Target) -> bool:
    return a.in_working_days == b.in_working_days and a.measured == b.measured


class _Calendars:
    """Each calendar's arithmetic, loaded once for the whole recomputation."""

    def __init__(self) -> None:
        self._by_id: dict[int | None, WorkCalendar] = {None: clocks.ALWAYS}
        self._models = {c.pk: c for c in BusinessCalendar.objects.all()}

    def of(self, calendar_id: int | None) -> WorkCalendar:
        if calendar_id not in self._by_id:
            assert calendar_id is not None
            calendar = self._models[calendar_id]
            self._by_id[calendar_id] = selectors.get_work_calendar(calendar=calendar)
        return self._by_id[calendar_id]


def _recompute(ticket_ids: Sequence[int], rows: QuerySet[Clock], recount: Recount,
               change: Change, written: Sequence[str]) -> int:
    """Apply ``recount`` to the clocks of ``ticket_ids`` that are still ``rows`` of open
    tickets, a chunk at a time, each locked then read (by primary key, so that writing back
    never disturbs a read in progress); write back the ``written`` columns of the ones it
    changed, in bulk. Returns how many deadlines moved."""
    names = dict(SlaPolicy.objects.values_list("id", "name"))
    moved = 0
    for start in range(0, len(ticket_ids), CHUNK):
        chunk = ticket_ids[start:start + CHUNK]
        _lock(chunk)
        fired = _fired(chunk)
        changed: list[Clock] = []
        events: list[TimelineEvent] = []
        timed: list[Clock] = []
        # Read after the lock, by a statement of its own: it sees what the actions that held
        # these clocks committed, the ticket's status and priority included.
        for clock in rows.filter(ticket_id__in=chunk, ticket__status__in=OPEN_STATUSES):
            before = _columns(clock)
            recount(clock, fired.get(clock.ticket_id, set()))
            after = _columns(clock)
            if after == before:
                continue
            changed.append(clock)
            if clocks.needs_timer(clock, change.now):
                clock.timer_at = clock.next_check_at
                timed.append(clock)
            if _deadlines(after) != _deadlines(before) or _targets(after) != _targets(before):
                events.append(_event(clock, before, change, names))
        _write(changed, written)
        append_events(events)
        _schedule(timed)
        moved += len(events)
    return moved


def _lock(ticket_ids: Sequence[int]) -> None:
    """Wait for the actions moving these tickets' clocks to commit, and keep the next ones
    waiting until the change commits. The rows are locked in ticket order, as every chunk is
    taken, so that two changes at once never deadlock. SQLite has no row locks: the change's
    transaction already holds its only write lock."""
    if connection.features.has_select_for_update:
        locking = Clock.objects.select_for_update(of=("self",)).filter(ticket_id__in=ticket_ids)
        list(locking.order_by("ticket_id").values_list("ticket_id", flat=True))


def _columns(clock: Clock) -> dict[str, Any]:
    return {name: getattr(clock, attname) for name, attname in _ATTNAMES.items()}


def _deadlines(columns: dict[str, Any]) -> tuple[Any, ...]:
    return columns["response_due_at"], columns["resolution_due_at"]


def _targets(columns: dict[str, Any]) -> tuple[Any, ...]:
    """The targets as the clock counts them (a target in days stays the same target when only
    its length in business hours, for reports, follows a new working day)."""
    return (
        columns["policy"], columns["calendar"], columns["warning_fraction"],
        columns["response_days"] if columns["response_days"] is not None
        else columns["response_target"],
        columns["resolution_days"] if columns["resolution_days"] is not None
        else columns["resolution_target"],
    )


def _schedule(timed: Sequence[Clock]) -> None:
    """A timer at each of these clocks' next check."""
    if timed:
        from opsdesk.sla.tasks import check_ticket_sla  # the task module imports services

        enqueue_many(check_ticket_sla, [(clock.ticket_id,) for clock in timed],
                     run_after=[clock.next_check_at for clock in timed])


def _event(clock: Clock, before: dict[str, Any], change: Change,
           policy_names: dict[int, str]) -> TimelineEvent:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    response_running = clocks.response_running(clock)
    data: dict[str, Any] = {
        "event": "recomputed", "reason": change.reason,
        "policy": policy_names.get(clock.policy_id) if clock.policy_id else None,
        "response_due_at": iso(clock.response_due_at) if response_running else None,
        "resolution_due_at": iso(clock.resolution_due_at),
        "previous": {
            "response_due_at": iso(before["response_due_at"]) if response_running else None,
            "resolution_due_at": iso(before["resolution_due_at"]),
        },
        "response_target": clocks.response_target(clock).as_data(),
        "resolution_target": clocks.resolution_target(clock).as_data(),
    }
    if change.calendar is not None:
        data["calendar"] = change.calendar
    return TimelineEvent(ticket_id=clock.ticket_id, kind=TimelineEvent.Kind.SLA, actor=None,
                         at=change.now, internal=False, data=data)


def _write(changed: Sequence[Clock], written: Sequence[str]) -> None:
    """One UPDATE statement of the ``written`` columns, executed for every changed clock."""
    if not changed:
        return
    fields = [_FIELDS[name] for name in written]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    statement = (f"UPDATE {quote(Clock._meta.db_table)} SET {assignments} "
                 f"WHERE {quote(Clock._meta.pk.column)} = %s")  # type: ignore[union-attr]
    converters = [(f.attname, _converter(f)) for f in fields]
    rows = [[convert(getattr(clock, attname)) for attname, convert in converters]
            + [clock.ticket_id] for clock in changed]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def _converter(field: Field[Any, Any]) -> Callable[[Any], Any]:
    """How a value of ``field`` is sent, as the field's own ``get_db_prep_save`` would send it
    (whose chain of calls costs more per value than the UPDATE per row)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
        zone = connection.timezone  # Django's SQLite backend: naive text in the connection's zone
        return lambda value: None if value is None else str(
            value.astimezone(zone).replace(tzinfo=None))
    if isinstance(field, models.DateTimeField):
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    if isinstance(field, models.DurationField):
        return lambda value: field.get_db_prep_value(value, connection)
    return lambda value: value  # ids and fractions, sent as they are
