"""The arithmetic of a ticket's SLA clocks: threshold moments and the derived due times.

Pure given a clock and its calendar: no queries, no writes (services.py does those).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from opsdesk.sla.calendars import (
    ONE_DAY,
    ZERO,
    DayClassifier,
    WorkCalendar,
    WorkingTime,
    work_calendar,
)
from opsdesk.sla.models import Clock, Notice, SlaPolicy
from opsdesk.sla.targets import Target

ALWAYS = work_calendar(WorkingTime(is_24x7=True), DayClassifier(use_statutory_holidays=False))
Threshold = Notice.Threshold
ClockKind = Notice.ClockKind
# Plain strings, equal to the choices: read for every clock of a bulk recomputation.
RESPONSE, RESOLUTION = str(ClockKind.RESPONSE.value), str(ClockKind.RESOLUTION.value)
WARNING, BREACH, SEVERE = (str(t.value) for t in (Threshold.WARNING, Threshold.BREACH,
                                                   Threshold.SEVERE))
# Breach at 100% of a target; "severe" at +100% (200%), which reaches the department head.
BREACH_FRACTION = 1.0
SEVERE_FRACTION = 2.0


@dataclass(frozen=True, slots=True)
class Moment:
    clock: str
    threshold: str
    at: datetime  # when the threshold is reached
    due: datetime  # the deadline of its clock (where the breach threshold is)


@dataclass(frozen=True)
class Measure:
    """How one clock counts time: business time of its calendar, or its working days."""

    calendar: WorkCalendar
    in_working_days: bool

    def after(self, start: datetime, durations: list[timedelta]) -> list[datetime]:
        if self.in_working_days:
            return self.calendar.add_working_days(start, durations)
        return self.calendar.add_business_times(start, durations)

    def between(self, a: datetime, b: datetime) -> timedelta:
        if self.in_working_days:
            return self.calendar.working_days_between(a, b)
        return self.calendar.business_time_between(a, b)

    def as_business_time(self, measured: timedelta) -> timedelta:
        """A time in this measure as business time, a working day at the calendar's length."""
        if self.in_working_days:
            return measured / ONE_DAY * self.calendar.hours.day_length
        return measured


def fractions(clock: Clock) -> tuple[tuple[str, float], ...]:
    return ((WARNING, clock.warning_fraction), (BREACH, BREACH_FRACTION),
            (SEVERE, SEVERE_FRACTION))


def response_open(clock: Clock) -> bool:
    """Nobody has responded yet (the clock may be paused)."""
    return clock.responded_at is None and clock.resolved_at is None


def response_running(clock: Clock) -> bool:
    return clock.response_since is not None and response_open(clock)


def response_paused(clock: Clock) -> bool:
    """Nobody has responded, and the ticket waits on its submitter."""
    return clock.response_since is None and response_open(clock)


def resolution_running(clock: Clock) -> bool:
    return clock.running_since is not None and clock.resolved_at is None


def response_measure(clock: Clock, calendar: WorkCalendar) -> Measure:
    return Measure(calendar, clock.response_days is not None)


def resolution_measure(clock: Clock, calendar: WorkCalendar) -> Measure:
    return Measure(calendar, clock.resolution_days is not None)


def response_target(clock: Clock) -> Target:
    if clock.response_days is not None:
        return Target.of_days(clock.response_days)
    return Target.of_duration(clock.response_target)


def resolution_target(clock: Clock) -> Target:
    if clock.resolution_days is not None:
        return Target.of_days(clock.resolution_days)
    return Target.of_duration(clock.resolution_target)


def target_of(clock: Clock, kind: str) -> Target:
    return response_target(clock) if kind == RESPONSE else resolution_target(clock)


def warning_share(clock: Clock) -> str:
    """The warning threshold as people read it: "75%"."""
    return f"{clock.warning_fraction * 100:.4g}%"


def spent_until(clock: Clock, calendar: WorkCalendar, now: datetime) -> timedelta:
    """Time the resolution clock has run, pauses excluded, in its measure."""
    spent = clock.resolution_spent
    if resolution_running(clock):
        assert clock.running_since is not None
        measure = resolution_measure(clock, calendar)
        spent += max(measure.between(clock.running_since, now), ZERO)
    return spent


def response_spent_until(clock: Clock, calendar: WorkCalendar, now: datetime) -> timedelta:
    """Time the response clock has run, pauses excluded, in its measure."""
    spent = clock.response_spent
    if response_running(clock):
        assert clock.response_since is not None
        measure = response_measure(clock, calendar)
        spent += max(measure.between(clock.response_since, now), ZERO)
    return spent


def pause(clock: Clock, calendar: WorkCalendar, now: datetime) -> bool:
    """Stop the running clocks at ``now``, keeping the time they ran. Whether any ran."""
    paused = False
    if response_running(clock):
        clock.response_spent = response_spent_until(clock, calendar, now)
        clock.response_since, paused = None, True
    if resolution_running(clock):
        clock.resolution_spent = spent_until(clock, calendar, now)
        clock.running_since, paused = None, True
    if paused:
        clock.paused_at = now
    return paused


def run_again(clock: Clock, now: datetime) -> None:
    """The resolution clock, and the response clock if nobody has responded yet, run on from
    ``now`` (after a pause, or a reopening)."""
    clock.running_since, clock.paused_at = now, None
    if response_open(clock) and clock.response_since is None:
        clock.response_since = now


def restart_response(clock: Clock, now: datetime) -> None:
    """A new response clock from ``now``: the ticket is back in triage, with nobody on it."""
    clock.responded_at = clock.response_time = None
    clock.response_spent, clock.response_since = ZERO, now


def response_due(clock: Clock, calendar: WorkCalendar) -> datetime:
    """When the running response clock reaches its target."""
    assert clock.response_since is not None
    left = max(_measured(clock.response_days, clock.response_target) - clock.response_spent, ZERO)
    [due] = response_measure(clock, calendar).after(clock.response_since, [left])
    return due


def moments(clock: Clock, calendar: WorkCalendar) -> list[Moment]:
    """When each threshold of each running clock is (or was) reached."""
    found = []
    steps = fractions(clock)
    if response_running(clock):
        assert clock.response_since is not None
        target = _measured(clock.response_days, clock.response_target)
        left = [max(target * fraction - clock.response_spent, ZERO) for _t, fraction in steps]
        reached = response_measure(clock, calendar).after(clock.response_since, left)
        found += [Moment(RESPONSE, threshold, at, reached[1])
                  for (threshold, _fraction), at in zip(steps, reached, strict=True)]
    if resolution_running(clock):
        assert clock.running_since is not None
        target = _measured(clock.resolution_days, clock.resolution_target)
        left = [max(target * fraction - clock.resolution_spent, ZERO) for _t, fraction in steps]
        reached = resolution_measure(clock, calendar).after(clock.running_since, left)
        found += [Moment(RESOLUTION, threshold, at, reached[1])
                  for (threshold, _fraction), at in zip(steps, reached, strict=True)]
    return found


def _measured(days: Decimal | None, business_time: timedelta) -> timedelta:
    """A clock's target in its measure (as ``Target.measured``, without building one)."""
    return business_time if days is None else Target.of_days(days).measured


def refresh_due_times(
    clock: Clock, calendar: WorkCalendar, fired: set[tuple[str, str]]
) -> None:
    """Recompute the due times and the indexed summary columns from the clock's state."""
    reached = {(m.clock, m.threshold): m.at for m in moments(clock, calendar)}
    clock.horizon_at = (max(reached.values(), key=_instant) if reached
                        else clock.started_at)
    if response_running(clock):
        clock.response_due_at = reached.get((RESPONSE, BREACH)) or clock.response_due_at
    clock.resolution_due_at = reached.get((RESOLUTION, BREACH))
    clock.warn_at = _earliest(reached.get((RESPONSE, WARNING)), reached.get((RESOLUTION, WARNING)))
    clock.breach_at = _earliest(reached.get((RESPONSE, BREACH)), reached.get((RESOLUTION, BREACH)))
    clock.next_check_at = _earliest(*(at for key, at in reached.items() if key not in fired))


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return min(present, key=_instant) if present else None


def needs_timer(clock: Clock, now: datetime) -> bool:
    """Whether the clock's next check needs a timer set for it: none is set, the one set has
    rung (its moment is past), or the next check now comes before it. A timer that rings
    before the next check (which moved later) finds nothing due and sets the next one then."""
    if clock.next_check_at is None:
        return False
    return (clock.timer_at is None or clock.timer_at <= now
            or clock.next_check_at < clock.timer_at)


def apply_policy(clock: Clock, policy: SlaPolicy, calendar: WorkCalendar) -> None:
    """Give ``clock`` the targets of ``policy``, whose calendar's arithmetic is ``calendar``."""
    clock.policy = policy
    clock.calendar = policy.calendar
    clock.warning_fraction = policy.warning_fraction
    clock.response_days = _days(policy.response)
    clock.resolution_days = _days(policy.resolution)
    clock.response_target = policy.response.business_time(calendar.hours.day_length)
    clock.resolution_target = policy.resolution.business_time(calendar.hours.day_length)


def refresh_business_targets(clock: Clock, calendar: WorkCalendar) -> None:
    """The targets in days as business time, for reports: they follow the calendar's day
    length (a target in hours is business time already)."""
    day = calendar.hours.day_length
    if clock.response_days is not None:
        clock.response_target = Target.of_days(clock.response_days).business_time(day)
    if clock.resolution_days is not None:
        clock.resolution_target = Target.of_days(clock.resolution_days).business_time(day)


def switch_policy(clock: Clock, policy: SlaPolicy, *, before: WorkCalendar,
                  after: WorkCalendar, now: datetime) -> None:
    """Put ``clock`` under ``policy`` (or its edited targets): the time spent so far, pauses
    excluded and counted as it ran (on ``before``), stays spent; the rest runs on ``after``.

    A running response clock is counted again from its last start on ``after`` (as the
    resolution clock is not): only the time it ran before a pause is kept as spent. Between
    hours and working days the time spent is converted at the working-day length of the
    calendar that counts the days."""
    was = resolution_measure(clock, before), response_measure(clock, before)
    spent = spent_until(clock, before, now)
    if resolution_running(clock):
        clock.running_since = now
    apply_policy(clock, policy, after)
    clock.resolution_spent = _converted(spent, was[0], resolution_measure(clock, after))
    clock.response_spent = _converted(clock.response_spent, was[1],
                                      response_measure(clock, after))


def _converted(spent: timedelta, was: Measure, becomes: Measure) -> timedelta:
    if was.in_working_days and not becomes.in_working_days:
        return was.as_business_time(spent)
    if becomes.in_working_days and not was.in_working_days:
        return spent / becomes.calendar.hours.day_length * ONE_DAY
    return spent


def _days(target: Target) -> Decimal | None:
    return target.amount if target.in_working_days else None


def _instant(moment: datetime) -> datetime:
    """Python compares two times of one zone by wall clock, blind to a DST fold: compare UTC."""
    return moment.astimezone(UTC)


def state(clock: Clock | None, now: datetime) -> str:
    """on_track, at_risk, breached, paused, met (all clocks stopped) or none (no policy)."""
    if clock is None:
        return "none"
    if clock.breach_at is not None and clock.breach_at <= now:
        return "breached"
    if clock.warn_at is not None and clock.warn_at <= now:
        return "at_risk"
    if clock.breach_at is not None:
        return "on_track"
    if clock.paused_at is not None:
        return "paused"
    return "met"
