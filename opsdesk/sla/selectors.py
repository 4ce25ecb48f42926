"""Reads for SLA: a business calendar's arithmetic, built from its admin configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opsdesk.runtime import config
from opsdesk.sla import clocks
from opsdesk.sla.calendars import DayClassifier, WorkCalendar, WorkingTime, work_calendar
from opsdesk.sla.models import BusinessCalendar, Clock, OverrideKind, SlaPolicy
from opsdesk.sla.targets import Target
from opsdesk.tickets.models import Ticket


def get_work_calendar(*, calendar: BusinessCalendar) -> WorkCalendar:
    """The business-time arithmetic for ``calendar``, its overrides loaded in one query.

    Calendars with the same rules share one ``WorkCalendar`` (and its year tables), so
    computing many deadlines costs one query per call and no rebuilding.
    """
    return config.cached(f"work_calendar:{calendar.pk}", lambda: _load_work_calendar(calendar))


def _load_work_calendar(calendar: BusinessCalendar) -> WorkCalendar:
    overrides = list(calendar.overrides.values_list("date", "kind"))
    hours = WorkingTime(
        tz=ZoneInfo(calendar.time_zone),
        day_start=calendar.day_start,
        day_end=calendar.day_end,
        lunch_start=calendar.lunch_start,
        lunch_end=calendar.lunch_end,
        is_24x7=calendar.is_24x7,
    )
    days = DayClassifier(
        use_statutory_holidays=calendar.use_statutory_holidays,
        extra_holidays=frozenset(d for d, kind in overrides if kind == OverrideKind.HOLIDAY),
        extra_working_days=frozenset(
            d for d, kind in overrides if kind == OverrideKind.WORKING_DAY
        ),
    )
    return work_calendar(hours, days)


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first enabled policy (by order) whose non-empty conditions all match ``ticket``."""
    return policy_matching(priority=ticket.priority, source_kind=ticket.source_kind,
                           module_id=ticket.module_id)


def policy_matching(*, priority: int, source_kind: str, module_id: int | None
                    ) -> SlaPolicy | None:
    """The first enabled policy (by order) whose non-empty conditions all match these."""
    for policy in config.cached("sla_policies", _load_policies):
        if (
            policy.priority in (None, priority)
            and policy.source_kind in ("", source_kind)
            and policy.module_id in (None, module_id)
        ):
            return policy
    return None


def _load_policies() -> list[SlaPolicy]:
    policies = SlaPolicy.objects.filter(enabled=True).select_related("calendar")
    return list(policies.order_by("order", "id"))


def clock_targets(clock: Clock) -> tuple[Target, Target]:
    """A clock's response and resolution targets as its policy's admin entered them ("120
    minutes" stays so), or as the clock counts them when it no longer follows its policy."""
    own = (clocks.response_target(clock), clocks.resolution_target(clock))
    policy = clock.policy
    if policy is not None and all(
            mine.in_working_days == entered.in_working_days and mine.measured == entered.measured
            for mine, entered in zip(own, (policy.response, policy.resolution), strict=True)):
        return policy.response, policy.resolution
    return own


_CLOCK_KEYS = ("policy", "response_due_at", "responded_at", "resolution_due_at", "resolved_at",
               "paused_since", "remaining_seconds")


def sla_summary(clock: Clock | None, now: datetime) -> dict[str, object]:
    """What a ticket shows about its SLA: state, due times and time remaining to the next due."""
    state = clocks.state(clock, now)
    if clock is None:
        return {"state": state, **dict.fromkeys(_CLOCK_KEYS)}
    due = clock.breach_at
    return {
        "state": state,
        "policy": clock.policy.name if clock.policy else None,
        # None while paused: it is due some time after the submitter answers.
        "response_due_at": None if clocks.response_paused(clock) else clock.response_due_at,
        "responded_at": clock.responded_at,
        "resolution_due_at": clock.resolution_due_at,
        "resolved_at": clock.resolved_at,
        "paused_since": clock.paused_at,
        "remaining_seconds": int((due - now).total_seconds()) if due else None,
    }


def breached_ticket_ids(*, now: datetime, limit: int | None = None) -> list[int]:
    """Tickets with a running clock past its due time, most overdue first (an index range)."""
    rows = Clock.objects.filter(breach_at__lte=now).order_by("breach_at", "ticket_id")
    ids = rows.values_list("ticket_id", flat=True)
    return list(ids[:limit] if limit else ids)


def is_business_moment(moment: datetime) -> bool:
    """Whether ``moment`` falls in working hours of the department's first business calendar
    (always, when none is configured): what "out of hours" is measured against."""
    calendar = BusinessCalendar.objects.order_by("pk").first()
    if calendar is None:
        return True
    resumes = get_work_calendar(calendar=calendar).next_business_moment(moment)
    return resumes.astimezone(UTC) == moment.astimezone(UTC)  # by instant, not wall clock


def ticket_calendar(*, ticket_id: int) -> WorkCalendar:
    """The business calendar a ticket's clock counts in (every hour of every day when it has
    none): what "N working days" means for that ticket."""
    calendar = (BusinessCalendar.objects.filter(pk__in=Clock.objects.filter(ticket_id=ticket_id)
                                                .values("calendar_id")).first())
    return clocks.ALWAYS if calendar is None else get_work_calendar(calendar=calendar)
