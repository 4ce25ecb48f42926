"""Every write to SLA clocks: started with a ticket, stopped, paused, resumed and recomputed by
workflow changes, moved by changes of calendars and policies, and advanced by the worker when a
threshold is reached. Each change is on the ticket's timeline; each threshold notifies once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify import services as notify
from opsdesk.routing.selectors import duty_engineer_at
from opsdesk.runtime import config, rows
from opsdesk.runtime.tasks import enqueue_many
from opsdesk.sla import clocks, notices, recompute, schedule, selectors
from opsdesk.sla.calendars import WorkCalendar, computed_holidays
from opsdesk.sla.models import (
    BusinessCalendar,
    CalendarOverride,
    Clock,
    Notice,
    ScheduleReminder,
    SlaPolicy,
)
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import append_events

SLA_EVENT = TimelineEvent.Kind.SLA


def calendar_of(clock: Clock) -> WorkCalendar:
    return _work_calendar(clock.calendar)


def _work_calendar(calendar: BusinessCalendar | None) -> WorkCalendar:
    if calendar is None:
        return clocks.ALWAYS
    return selectors.get_work_calendar(calendar=calendar)


def _fired(ticket_id: int) -> set[tuple[str, str]]:
    return set(Notice.objects.filter(ticket_id=ticket_id).values_list("clock", "threshold"))


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


def _save(clock: Clock, now: datetime) -> None:
    """Save ``clock``, with a timer at its next check if it needs one."""
    timed = clocks.needs_timer(clock, now)
    if timed:
        clock.timer_at = clock.next_check_at
    clock.save()
    if timed:
        from opsdesk.sla.tasks import schedule_check

        assert clock.next_check_at is not None
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
                      response_since=ticket.submitted_at, running_since=ticket.submitted_at,
                      response_due_at=ticket.submitted_at)
        clocks.apply_policy(clock, policy, _work_calendar(policy.calendar))
        clocks.refresh_due_times(clock, calendar_of(clock), set())
        clock.timer_at = clock.next_check_at
        started.append(clock)
    rows.insert(started)  # the ORM would compile the INSERT of forty-odd columns anew
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
    now = change.at
    calendar = calendar_of(clock)
    events: list[tuple[str, dict[str, object]]] = []
    reopening = change.source in FINISHED_STATES and change.target not in FINISHED_STATES
    if POLICY_FIELDS.intersection(change.changed):
        events += _follow_policy(clock, change.ticket, now, reason="ticket_changed")
    elif reopening and change.source != Status.AWAITING_VERIFICATION:
        # A closed ticket's clock was left out of policy edits since: it restarts on today's.
        events += _follow_policy(clock, change.ticket, now, reason="policy_changed")
    calendar = calendar_of(clock)
    if clocks.response_open(clock) and _is_acknowledgement(change):
        events.append(_respond(clock, calendar, now))
    entering_waiting = change.target == Status.WAITING and change.source != Status.WAITING
    if entering_waiting and clocks.pause(clock, calendar, now):
        events.append(("paused", {}))
    elif change.source == Status.WAITING and change.target != Status.WAITING:
        clocks.run_again(clock, now)
        events.append(("resumed", {}))
    if change.target in (Status.AWAITING_VERIFICATION, Status.CLOSED) and clock.resolved_at is None:
        clock.resolution_spent = clocks.spent_until(clock, calendar, now)
        clock.resolved_at, clock.running_since = now, None
        clock.resolution_time = clocks.resolution_measure(clock, calendar).as_business_time(
            clock.resolution_spent)
        if clock.responded_at is None:
            clock.responded_at = now
        events.append(("resolved", {
            "resolution_time_seconds": int(clock.resolution_time.total_seconds())}))
    elif reopening:
        # The fix was rejected, or the closed ticket reopened: the resolution clock runs on,
        # and back in triage, with nobody on it, a new response clock runs.
        clock.resolved_at = clock.resolution_time = None
        clocks.refresh_business_targets(clock, calendar)
        if change.target == Status.NEW:
            clocks.restart_response(clock, now)
            # Its thresholds are reached anew and notify again.
            Notice.objects.filter(ticket_id=clock.ticket_id, clock=clocks.RESPONSE).delete()
        clocks.run_again(clock, now)
        events.append(("reopened", {"action": change.action}))
    if not events:
        return
    clocks.refresh_due_times(clock, calendar, _fired(clock.ticket_id))
    _save(clock, now)
    for event, data in events:
        _log(clock, event, now, **data)


# The ticket fields a policy matches on: a change of one may put the ticket under another.
POLICY_FIELDS = frozenset({"priority", "module", "source_kind"})
# The states whose resolution clock has stopped: leaving them for work restarts it.
FINISHED_STATES = frozenset({Status.AWAITING_VERIFICATION, Status.CLOSED, Status.ARCHIVED})
# The states whose entry or exit starts, stops or pauses a clock.
CLOCK_STATES = frozenset({Status.ANALYSING, Status.WAITING}) | FINISHED_STATES


def _may_move_clocks(change: TicketChange) -> bool:
    """Cheap pre-check, so the many changes that cannot affect a clock cost no query."""
    return (
        change.action == "comment"
        or not POLICY_FIELDS.isdisjoint(change.changed)
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


def _respond(clock: Clock, calendar: WorkCalendar, now: datetime
             ) -> tuple[str, dict[str, object]]:
    """Stop the response clock: the first response is now."""
    if not clocks.response_running(clock):
        # Answered while paused (a report sent back): measured as if it ran again just now.
        clock.response_since = now
        clock.response_due_at = clocks.response_due(clock, calendar)
    measure = clocks.response_measure(clock, calendar)
    clock.response_time = measure.as_business_time(
        clocks.response_spent_until(clock, calendar, now))
    clock.responded_at = now
    met = now <= clock.response_due_at
    return ("response_met" if met else "response_late",
            {"response_time_seconds": int(clock.response_time.total_seconds())})


def _follow_policy(clock: Clock, ticket: Ticket, now: datetime, *, reason: str
                   ) -> list[tuple[str, dict[str, object]]]:
    """A new priority, module or source may mean a new policy, and a reopened closed ticket
    may find its policy edited: the targets change, the time already spent (pauses excluded)
    stays spent, and the deadlines follow from both."""
    policy = selectors.policy_for(ticket)
    if policy is None or recompute.follows(clock, policy):
        return []
    clocks.switch_policy(clock, policy, before=calendar_of(clock),
                         after=_work_calendar(policy.calendar), now=now)
    return [("recomputed", {"reason": reason, "priority": ticket.priority_code})]


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
        notices.send(notice=notice, clock=clock, moment=moment, recipients=recipients)
        _log(clock, moment.threshold, now, clock_kind=moment.clock, due=moment.due.isoformat(),
             reached_at=moment.at.isoformat(), used=clocks.warning_share(clock),
             target=clocks.target_of(clock, moment.clock).as_data(),
             notified=[u.username for u in recipients])
    clocks.refresh_due_times(clock, calendar, fired)
    _save(clock, now)
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


@transaction.atomic
def apply_calendar_change(*, calendar: BusinessCalendar, since: date | None = None,
                          now: datetime | None = None) -> int:
    """After ``calendar`` changed in the caller's transaction (working hours, lunch, 24×7, time
    zone, an override added, edited or removed): every open clock on it, running, paused or
    stopped awaiting verification, is counted by the new rules, with its next threshold
    rescheduled and, where a deadline moved, a timeline event. ``since``: only overrides of
    that date or later changed. Returns how many deadlines moved."""
    change = recompute.Change("calendar_changed", now or timezone.now(), calendar.name)
    with config.one_read():
        return recompute.on_calendar(calendar, change, since)


@transaction.atomic
def apply_policy_change(*, now: datetime | None = None) -> int:
    """After SLA policies changed in the caller's transaction (targets, calendar, warning,
    conditions, order, enabled, added or deleted): every open ticket gets the policy that now
    matches it, the business time already spent kept, with its next threshold rescheduled and,
    where a deadline moved, a timeline event. Returns how many moved."""
    with config.one_read():
        return recompute.on_policies(recompute.Change("policy_changed", now or timezone.now()))


@transaction.atomic
def update_calendar(*, calendar: BusinessCalendar, **fields: Any) -> int:
    """Change a calendar's rules (``day_start``, ``lunch_start``, ``is_24x7`` …) and move the
    deadlines that follow from them. Raises ValidationError for inconsistent hours."""
    for name, value in fields.items():
        setattr(calendar, name, value)
    calendar.full_clean()
    calendar.save()
    return apply_calendar_change(calendar=calendar)


@transaction.atomic
def set_override(*, calendar: BusinessCalendar, day: date, kind: str, note: str = "") -> int:
    """Make ``day`` an extra holiday or an extra working day of ``calendar`` (replacing what
    that date had) and move the deadlines that follow. Returns how many moved."""
    override = CalendarOverride.objects.filter(calendar=calendar, date=day).first()
    override = override or CalendarOverride(calendar=calendar, date=day)
    override.kind, override.note = kind, note
    override.full_clean()
    override.save()
    return apply_calendar_change(calendar=calendar, since=day)


@transaction.atomic
def remove_override(*, calendar: BusinessCalendar, day: date) -> int:
    """Let ``day`` follow ``calendar``'s rules again. Returns how many deadlines moved."""
    for override in CalendarOverride.objects.filter(calendar=calendar, date=day):
        override.delete()  # one by one: each delete tells the configuration cache
    return apply_calendar_change(calendar=calendar, since=day)


@transaction.atomic
def update_policy(*, policy: SlaPolicy, **fields: Any) -> int:
    """Change a policy (targets, units, calendar, conditions, order, enabled) and move the
    open tickets' deadlines accordingly. Raises ValidationError for a bad value."""
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    return apply_policy_change()


def preview(change: Callable[[], int]) -> int:
    """What ``change`` (one of the changes above) returns, without keeping it: it is made and
    rolled back, so that an admin sees how many deadlines it would move before confirming."""
    with config.one_read():
        try:
            with transaction.atomic():
                moved = change()
                transaction.set_rollback(True)
        finally:
            # Values read inside were tagged with a generation that never committed.
            config.clear()
    return moved


def remind_missing_schedule(*, today: date | None = None) -> list[int]:
    """Periodic: tell the administrators, once per year, that the official schedule of this
    year or (from December) next year is missing from the calendar library, with the holidays
    computed in its place for them to check and the make-up working days to enter. Returns
    the years reminded of now."""
    today = today or timezone.localdate()
    reminded = []
    for year in schedule.years_missing(today):
        with transaction.atomic():
            if ScheduleReminder.objects.filter(year=year).exists():
                continue
            try:
                with transaction.atomic():
                    ScheduleReminder.objects.create(
                        year=year, sent_at=timezone.now(),
                        holidays=[[d.isoformat(), name]
                                  for d, name in computed_holidays(year, "zh-hans")])
            except IntegrityError:
                continue  # another worker reminded first
            notify.notify(
                kind="calendar_schedule", ticket=None, recipients=_administrators(),
                context={"year": year, "holidays": schedule.HolidayList(year),
                         "link": _calendars_link()},
                dedupe_key=f"sla:schedule:{year}")
        reminded.append(year)
    return reminded


def _administrators() -> list[User]:
    admins = User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN),
                                 is_active=True)
    return list(admins.distinct().order_by("pk"))


def _calendars_link() -> str:
    base = str(settings.OPSDESK_BASE_URL).rstrip("/")
    return base + reverse("web:manage_sla")
