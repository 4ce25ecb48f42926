"""Every write to SLA clocks: started with a ticket, stopped, paused, resumed and recomputed by
workflow changes, and advanced by the worker when a threshold is reached. Each change is on the
ticket's timeline; each threshold notifies once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.routing.selectors import duty_engineer_at
from opsdesk.runtime.tasks import enqueue_many
from opsdesk.sla import clocks, notices, selectors
from opsdesk.sla.calendars import WorkCalendar
from opsdesk.sla.models import Clock, Notice, SlaPolicy
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import append_events

SLA_EVENT = TimelineEvent.Kind.SLA


def calendar_of(clock: Clock) -> WorkCalendar:
    if clock.calendar is None:
        return clocks.ALWAYS
    return selectors.get_work_calendar(calendar=clock.calendar)


def _fired(ticket_id: int) -> set[tuple[str, str]]:
    return set(Notice.objects.filter(ticket_id=ticket_id).values_list("clock", "threshold"))


def _apply_policy(clock: Clock, policy: SlaPolicy) -> None:
    clock.policy = policy
    clock.calendar = policy.calendar
    clock.warning_fraction = policy.warning_fraction
    clock.response_target = policy.response_target
    clock.resolution_target = policy.resolution_target


def _log(clock: Clock, event: str, at: datetime, **data: object) -> None:
    _event(clock, event, at, **data).save()


def _event(clock: Clock, event: str, at: datetime, **data: object) -> TimelineEvent:
    return TimelineEvent(
        ticket=clock.ticket, kind=SLA_EVENT, actor=None, at=at, internal=False,
        data={"event": event, "policy": clock.policy.name if clock.policy else None,
              "response_due_at": _iso(clock.response_due_at) if clocks.response_running(clock)
              else None,
              "resolution_due_at": _iso(clock.resolution_due_at), **data},
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _save(clock: Clock, previous_check: datetime | None, *, new: bool = False) -> None:
    clock.save(force_insert=new)
    if clock.next_check_at is not None and clock.next_check_at != previous_check:
        from opsdesk.sla.tasks import schedule_check

        schedule_check(ticket_id=clock.ticket_id, at=clock.next_check_at)


def start_clocks(changes: Sequence[TicketChange]) -> None:
    """Creation hook: start the response and resolution clocks of new tickets under their
    policies, with their timers, in a few statements for all of them."""
    started = []
    for change in changes:
        ticket = change.ticket
        policy = selectors.policy_for(ticket)
        if policy is None:
            continue
        clock = Clock(ticket=ticket, started_at=ticket.submitted_at,
                      running_since=ticket.submitted_at, response_due_at=ticket.submitted_at)
        _apply_policy(clock, policy)
        clocks.refresh_due_times(clock, calendar_of(clock), set())
        started.append(clock)
    Clock.objects.bulk_create(started)
    append_events(
        [_event(clock, "started", clock.ticket.submitted_at) for clock in started])
    timed = [clock for clock in started if clock.next_check_at is not None]
    if timed:
        from opsdesk.sla.tasks import check_ticket_sla

        enqueue_many(check_ticket_sla, [(clock.ticket_id,) for clock in timed],
                     run_after=[clock.next_check_at for clock in timed])


def _locked_clock(ticket: Ticket) -> Clock | None:
    return (
        Clock.objects.select_for_update(of=("self",))
        .select_related("policy", "calendar")
        .filter(ticket=ticket)
        .first()
    )


def on_ticket_change(change: TicketChange) -> None:
    """Hook: move the clocks as the workflow moves the ticket."""
    if not _may_move_clocks(change):
        return
    clock = _locked_clock(change.ticket)
    if clock is None:
        return
    clock.ticket = change.ticket
    previous_check, now = clock.next_check_at, change.at
    calendar = calendar_of(clock)
    events: list[tuple[str, dict[str, object]]] = []
    if "priority" in change.changed:
        events += _recompute(clock, change.ticket, now)
        calendar = calendar_of(clock)
    if clocks.response_running(clock) and _is_acknowledgement(change):
        clock.responded_at = now
        clock.response_time = calendar.business_time_between(clock.started_at, now)
        met = now <= clock.response_due_at
        events.append(("response_met" if met else "response_late",
                       {"response_time_seconds": int(clock.response_time.total_seconds())}))
    entering_waiting = change.target == Status.WAITING and change.source != Status.WAITING
    if entering_waiting and clocks.resolution_running(clock):
        clock.resolution_spent = clocks.spent_until(clock, calendar, now)
        clock.running_since, clock.paused_at = None, now
        events.append(("paused", {}))
    elif change.source == Status.WAITING and change.target != Status.WAITING:
        _run_again(clock, now)
        events.append(("resumed", {}))
    if change.target in (Status.AWAITING_VERIFICATION, Status.CLOSED) and clock.resolved_at is None:
        clock.resolution_spent = clocks.spent_until(clock, calendar, now)
        clock.resolved_at, clock.running_since = now, None
        clock.resolution_time = clock.resolution_spent
        if clock.responded_at is None:
            clock.responded_at = now
        events.append(("resolved", {
            "resolution_time_seconds": int(clock.resolution_spent.total_seconds())}))
    elif change.source == Status.AWAITING_VERIFICATION and change.target == Status.IN_PROGRESS:
        clock.resolved_at = clock.resolution_time = None
        _run_again(clock, now)
        events.append(("reopened", {}))
    if not events:
        return
    clocks.refresh_due_times(clock, calendar, _fired(clock.ticket_id))
    _save(clock, previous_check)
    for event, data in events:
        _log(clock, event, now, **data)


# The states whose entry or exit starts, stops or pauses a clock.
CLOCK_STATES = frozenset(
    {Status.ANALYSING, Status.WAITING, Status.AWAITING_VERIFICATION, Status.CLOSED}
)


def _may_move_clocks(change: TicketChange) -> bool:
    """Cheap pre-check, so the many changes that cannot affect a clock cost no query."""
    return (
        change.action == "comment"
        or "priority" in change.changed
        or (change.source != change.target
        and (change.target in CLOCK_STATES or change.source in CLOCK_STATES))
    )


def _is_acknowledgement(change: TicketChange) -> bool:
    """The assignee's first response: entering analysis, or a first public reply."""
    if change.target == Status.ANALYSING:
        return True
    return (
        change.action == "comment"
        and change.changed.get("public") is True
        and change.actor is not None
        and change.actor.pk == change.ticket.assignee_id
    )


def _run_again(clock: Clock, now: datetime) -> None:
    clock.running_since, clock.paused_at = now, None


def _recompute(clock: Clock, ticket: Ticket, now: datetime) -> list[tuple[str, dict[str, object]]]:
    """A new priority may mean a new policy: the targets change, the time already spent (pauses
    excluded) stays spent, and the deadlines follow from both."""
    policy = selectors.policy_for(ticket)
    if policy is None or policy.pk == clock.policy_id:
        return []
    old_calendar = calendar_of(clock)
    if clocks.resolution_running(clock):
        clock.resolution_spent = clocks.spent_until(clock, old_calendar, now)
        clock.running_since = now
    _apply_policy(clock, policy)
    return [("recomputed", {"priority": ticket.priority_code})]


@transaction.atomic
def check_thresholds(*, ticket_id: int, now: datetime | None = None) -> list[Notice]:
    """Fire every threshold reached and not yet fired (each exactly once), then set the next
    check. Safe to run any number of times, by timers and sweeps alike."""
    now = now or timezone.now()
    clock = (
        Clock.objects.select_for_update(of=("self",))
        .select_related("policy", "calendar", "ticket__assignee", "ticket__module__owner")
        .filter(ticket_id=ticket_id)
        .first()
    )
    if clock is None:
        return []
    calendar = calendar_of(clock)
    fired = _fired(ticket_id)
    new = []
    for moment in sorted(clocks.moments(clock, calendar), key=lambda m: m.at):
        key = (moment.clock, moment.threshold)
        if moment.at > now or key in fired:
            continue
        try:
            with transaction.atomic():
                notice = Notice.objects.create(ticket_id=ticket_id, clock=moment.clock,
                                               threshold=moment.threshold, fired_at=now)
        except IntegrityError:
            continue  # another worker fired it first
        fired.add(key)
        new.append(notice)
        recipients = escalation_recipients(clock.ticket, moment.threshold, now)
        notices.send(notice=notice, ticket=clock.ticket, due_at=moment.at, recipients=recipients)
        _log(clock, moment.threshold, now, clock_kind=moment.clock, due=moment.at.isoformat(),
             notified=[u.username for u in recipients])
    previous_check = clock.next_check_at
    clocks.refresh_due_times(clock, calendar, fired)
    _save(clock, previous_check)
    return new


def escalation_recipients(ticket: Ticket, threshold: str, now: datetime) -> list[User]:
    """Warning → the assignee; breach → the module owner and the duty engineer; an urgent
    breach, or any breach past +100%, → also the department head."""
    people: list[User | None] = []
    if threshold == Notice.Threshold.WARNING:
        people.append(ticket.assignee or duty_engineer_at(now))
    else:
        people += [ticket.module.owner if ticket.module else None, duty_engineer_at(now)]
        if threshold == Notice.Threshold.SEVERE or ticket.priority == 1:
            people += list(User.objects.filter(is_active=True, groups__name=Role.HEAD))
    unique = {u.pk: u for u in people if u is not None and u.is_active}
    return list(unique.values())


def sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Safety net behind the timers: check every ticket with a threshold due. Returns how many."""
    now = now or timezone.now()
    due = list(
        Clock.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("ticket_id", flat=True)[:limit]
    )
    for ticket_id in due:
        check_thresholds(ticket_id=ticket_id, now=now)
    return len(due)


def recompute_for_policy(*, policy: SlaPolicy, now: datetime | None = None) -> int:
    """After an admin edits ``policy``: every open ticket under it gets the new targets, with
    the business time already spent (pauses excluded) kept. Returns how many were moved."""
    now = now or timezone.now()
    moved = 0
    open_clocks = Clock.objects.filter(policy=policy, resolved_at__isnull=True)
    for ticket_id in open_clocks.values_list("ticket_id", flat=True).iterator():
        with transaction.atomic():
            clock = (Clock.objects.select_for_update(of=("self",))
                     .select_related("ticket", "calendar").get(ticket_id=ticket_id))
            previous_check = clock.next_check_at
            if clocks.resolution_running(clock):
                clock.resolution_spent = clocks.spent_until(clock, calendar_of(clock), now)
                clock.running_since = now
            _apply_policy(clock, policy)
            clocks.refresh_due_times(clock, calendar_of(clock), _fired(ticket_id))
            _save(clock, previous_check)
            _log(clock, "recomputed", now, reason="policy_changed")
        moved += 1
    return moved
