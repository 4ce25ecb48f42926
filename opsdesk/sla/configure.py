"""SLA policies and calendar days as the administration pages change them: each change is made
by ``services`` (which moves the deadlines of the open tickets it touches, with a timeline
event on each), checked in the reader's words first and put on record as a LogEntry; and a
calendar's year, day by day, as the year view shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.accounts import audit
from opsdesk.accounts.models import User
from opsdesk.sla import services
from opsdesk.sla.calendars import DayClassifier
from opsdesk.sla.models import BusinessCalendar, CalendarOverride, OverrideKind, SlaPolicy
from opsdesk.sla.targets import Target

POLICY_FIELDS = ("name", "order", "enabled", "priority", "source_kind", "module",
                 "response_amount", "response_unit", "resolution_amount", "resolution_unit",
                 "calendar", "warning_fraction")


def _target_problems(policy: SlaPolicy) -> None:
    """A resolution due before the first response is a typing mistake (hours for days)."""
    if policy.response_amount is None or policy.resolution_amount is None:
        return
    day = policy.calendar.day_length if policy.calendar else timedelta(days=1)
    response = Target(policy.response_amount, policy.response_unit)
    resolution = Target(policy.resolution_amount, policy.resolution_unit)
    if resolution.business_time(day) < response.business_time(day):
        raise ValidationError({"resolution_amount": ValidationError(_(
            "The resolution target (%(resolution)s) is shorter than the response target "
            "(%(response)s): a ticket would be due to be solved before it is due an answer.")
            % {"resolution": resolution, "response": response})})


@transaction.atomic
def save_policy(*, by: User, policy: SlaPolicy | None, **fields: Any) -> tuple[SlaPolicy, int]:
    """Create a policy (``policy`` None) or change one; returns it and how many open tickets'
    deadlines moved."""
    new = policy is None
    policy = policy or SlaPolicy()
    changed = [name for name in POLICY_FIELDS
               if name in fields and fields[name] != getattr(policy, name, None)]
    for name in changed:
        setattr(policy, name, fields[name])
    _target_problems(policy)
    moved = services.update_policy(policy=policy)
    if new:
        audit.added(by=by, obj=policy)
    elif changed:
        audit.changed(by=by, obj=policy, fields=changed)
    return policy, moved


@transaction.atomic
def delete_policy(*, by: User, policy: SlaPolicy) -> int:
    """Remove ``policy``; its open tickets follow the policy that matches them now."""
    audit.deleted(by=by, obj=policy)
    policy.delete()
    return services.apply_policy_change()


@transaction.atomic
def set_day(*, by: User, calendar: BusinessCalendar, day: date, kind: str, note: str = ""
            ) -> int:
    """Make ``day`` an extra holiday or working day of ``calendar``; returns how many
    deadlines moved."""
    before = CalendarOverride.objects.filter(calendar=calendar, date=day).first()
    moved = services.set_override(calendar=calendar, day=day, kind=kind, note=note)
    override = CalendarOverride.objects.get(calendar=calendar, date=day)
    if before is None:
        audit.added(by=by, obj=override)
    else:
        audit.changed(by=by, obj=override, fields=["kind", "note"])
    return moved


@transaction.atomic
def clear_day(*, by: User, calendar: BusinessCalendar, day: date) -> int:
    """Let ``day`` follow ``calendar``'s rules again; returns how many deadlines moved."""
    for override in CalendarOverride.objects.filter(calendar=calendar, date=day):
        audit.deleted(by=by, obj=override)
    return services.remove_override(calendar=calendar, day=day)


CALENDAR_FIELDS = ("time_zone", "is_24x7", "day_start", "day_end", "lunch_start", "lunch_end",
                   "use_statutory_holidays")


@transaction.atomic
def save_calendar(*, by: User, calendar: BusinessCalendar, **fields: Any) -> int:
    """Change a calendar's working hours, lunch break, time zone or holiday rules; returns how
    many open tickets' deadlines moved."""
    changed = [name for name in CALENDAR_FIELDS
               if name in fields and fields[name] != getattr(calendar, name)]
    if not changed:
        return 0
    moved = services.update_calendar(calendar=calendar,
                                     **{name: fields[name] for name in changed})
    audit.changed(by=by, obj=calendar, fields=changed)
    return moved


# --- The year view --------------------------------------------------------------------------

@dataclass(frozen=True)
class Day:
    day: date
    kind: str  # workday, weekend, holiday, makeup, extra_holiday, extra_working_day
    note: str = ""

    @property
    def worked(self) -> bool:
        return self.kind in ("workday", "makeup", "extra_working_day")


def year_days(calendar: BusinessCalendar, year: int) -> list[Day]:
    """Every day of ``year`` as ``calendar`` counts it: its overrides first, then the statutory
    schedule (holidays, 调休) if it uses it, else Monday to Friday."""
    overrides = {o.date: o for o in calendar.overrides.filter(date__year=year)}
    rules = DayClassifier(use_statutory_holidays=calendar.use_statutory_holidays)
    first = date(year, 1, 1)
    worked = rules.year_flags(year) if calendar.use_statutory_holidays else None
    days = []
    for offset in range((date(year + 1, 1, 1) - first).days):
        day = first + timedelta(days=offset)
        override = overrides.get(day)
        if override is not None:
            kind = ("extra_holiday" if override.kind == OverrideKind.HOLIDAY
                    else "extra_working_day")
            days.append(Day(day, kind, override.note))
            continue
        weekend = day.weekday() >= 5
        is_worked = bool(worked[offset]) if worked is not None else not weekend
        if is_worked:
            days.append(Day(day, "makeup" if weekend else "workday"))
        else:
            days.append(Day(day, "weekend" if weekend else "holiday"))
    return days

