"""The arithmetic of a ticket's SLA clocks: threshold moments and the derived due times.

Pure given a clock and its calendar: no queries, no writes (services.py does those).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opsdesk.sla.calendars import DayClassifier, WorkCalendar, WorkingTime, work_calendar
from opsdesk.sla.models import Clock, Notice

ALWAYS = work_calendar(WorkingTime(is_24x7=True), DayClassifier(use_statutory_holidays=False))
Threshold = Notice.Threshold
ClockKind = Notice.ClockKind
# Breach at 100% of a target; "severe" at +100% (200%), which reaches the department head.
BREACH_FRACTION = 1.0
SEVERE_FRACTION = 2.0


@dataclass(frozen=True)
class Moment:
    clock: str
    threshold: str
    at: datetime


def fractions(clock: Clock) -> tuple[tuple[str, float], ...]:
    return (
        (Threshold.WARNING, clock.warning_fraction),
        (Threshold.BREACH, BREACH_FRACTION),
        (Threshold.SEVERE, SEVERE_FRACTION),
    )


def response_running(clock: Clock) -> bool:
    return clock.responded_at is None and clock.resolved_at is None


def resolution_running(clock: Clock) -> bool:
    return clock.running_since is not None and clock.resolved_at is None


def spent_until(clock: Clock, calendar: WorkCalendar, now: datetime) -> timedelta:
    """Business time the resolution clock has run, pauses excluded."""
    spent = clock.resolution_spent
    if resolution_running(clock):
        assert clock.running_since is not None
        spent += max(calendar.business_time_between(clock.running_since, now), timedelta(0))
    return spent


def moments(clock: Clock, calendar: WorkCalendar) -> list[Moment]:
    """When each threshold of each running clock is (or was) reached."""
    found = []
    if response_running(clock):
        for threshold, fraction in fractions(clock):
            at = calendar.add_business_time(clock.started_at, clock.response_target * fraction)
            found.append(Moment(ClockKind.RESPONSE, threshold, at))
    if resolution_running(clock):
        assert clock.running_since is not None
        for threshold, fraction in fractions(clock):
            left = max(clock.resolution_target * fraction - clock.resolution_spent, timedelta(0))
            at = calendar.add_business_time(clock.running_since, left)
            found.append(Moment(ClockKind.RESOLUTION, threshold, at))
    return found


def refresh_due_times(
    clock: Clock, calendar: WorkCalendar, fired: set[tuple[str, str]]
) -> None:
    """Recompute the due times and the indexed summary columns from the clock's state."""
    all_moments = moments(clock, calendar)

    def first(kind: str | None, threshold: str) -> datetime | None:
        times = [m.at for m in all_moments
                 if m.threshold == threshold and (kind is None or m.clock == kind)]
        return min(times, key=_instant) if times else None

    if response_running(clock):
        clock.response_due_at = first(ClockKind.RESPONSE, Threshold.BREACH) or clock.response_due_at
    clock.resolution_due_at = first(ClockKind.RESOLUTION, Threshold.BREACH)
    clock.warn_at = first(None, Threshold.WARNING)
    clock.breach_at = first(None, Threshold.BREACH)
    pending = [m.at for m in all_moments if (m.clock, m.threshold) not in fired]
    clock.next_check_at = min(pending, key=_instant) if pending else None


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
