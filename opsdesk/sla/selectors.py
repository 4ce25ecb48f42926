"""Reads for SLA: a business calendar's arithmetic, built from its admin configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opsdesk.runtime import config
from opsdesk.sla import clocks
from opsdesk.sla.calendars import DayClassifier, WorkCalendar, WorkingTime, work_calendar
from opsdesk.sla.models import BusinessCalendar, Clock, OverrideKind, SlaPolicy
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
    for policy in config.cached("sla_policies", _load_policies):
        if (
            policy.priority in (None, ticket.priority)
            and policy.source_kind in ("", ticket.source_kind)
            and policy.module_id in (None, ticket.module_id)
        ):
            return policy
    return None


def _load_policies() -> list[SlaPolicy]:
    policies = SlaPolicy.objects.filter(enabled=True).select_related("calendar")
    return list(policies.order_by("order", "id"))


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
        "response_due_at": clock.response_due_at,
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
