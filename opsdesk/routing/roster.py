"""The duty roster as the administration page plans it: a week of shifts with what is wrong
with it (shifts that overlap, hours nobody is on duty), and the writes that plan, change and
remove a shift, each checked in the reader's words and put on record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from opsdesk.accounts import audit
from opsdesk.accounts.models import User
from opsdesk.routing.models import DutyShift
from opsdesk.routing.selectors import shifts_between

# A shift longer than this is taken for a typing mistake (a month instead of a day).
LONGEST_SHIFT = timedelta(days=7)
SHIFT_FIELDS = ("starts_at", "ends_at", "engineer", "backup")


def moment(at: datetime) -> str:
    """``at`` as the reader writes a shift's bounds, in the reader's zone."""
    return formats.date_format(timezone.localtime(at), "Y-m-d H:i")


@dataclass
class Day:
    day: date
    shifts: list[DutyShift] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class Roster:
    """The shifts of [start, end), day by day in the reader's zone, and what is wrong with them."""

    start: datetime
    end: datetime
    days: list[Day]
    conflicts: list[tuple[DutyShift, DutyShift]]
    gaps: list[tuple[datetime, datetime]]


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def read_roster(*, first_day: date, days: int = 7) -> Roster:
    """The roster of ``days`` days from ``first_day`` (midnight in the reader's zone)."""
    start, end = _local_midnight(first_day), _local_midnight(first_day + timedelta(days=days))
    shifts = shifts_between(start, end)
    gaps = uncovered(shifts, start, end)
    table = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        since, until = _local_midnight(day), _local_midnight(day + timedelta(days=1))
        table.append(Day(
            day,
            [s for s in shifts if s.starts_at < until and s.ends_at > since],
            [(max(a, since), min(b, until)) for a, b in gaps if a < until and b > since],
        ))
    return Roster(start, end, table, overlapping(shifts), gaps)


def uncovered(shifts: list[DutyShift], start: datetime, end: datetime
              ) -> list[tuple[datetime, datetime]]:
    """The periods of [start, end) no shift covers (``shifts`` in order of start)."""
    gaps, covered_until = [], start
    for shift in shifts:
        if shift.starts_at > covered_until:
            gaps.append((covered_until, min(shift.starts_at, end)))
        covered_until = max(covered_until, shift.ends_at)
        if covered_until >= end:
            break
    if covered_until < end:
        gaps.append((covered_until, end))
    return [(a, b) for a, b in gaps if a < b]


def overlapping(shifts: list[DutyShift]) -> list[tuple[DutyShift, DutyShift]]:
    """Pairs of shifts (in order of start) that overlap: two people on duty at once."""
    pairs = []
    for i, shift in enumerate(shifts):
        for later in shifts[i + 1:]:
            if later.starts_at >= shift.ends_at:
                break
            pairs.append((shift, later))
    return pairs


def shift_problems(shift: DutyShift, *, model_rules: bool = True
                   ) -> dict[str, list[ValidationError]]:
    """What is wrong with ``shift`` as planned, field by field, in the reader's words; with
    ``model_rules``, the model's own (``full_clean``: the roles) too."""
    problems: dict[str, list[ValidationError]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(ValidationError(message))

    if shift.ends_at <= shift.starts_at:
        add("ends_at", _("The shift ends (%(end)s) before it starts (%(start)s): give an end "
                         "after the start; a night shift ends on the next day.")
            % {"end": moment(shift.ends_at), "start": moment(shift.starts_at)})
    elif shift.ends_at - shift.starts_at > LONGEST_SHIFT:
        add("ends_at", _("A shift lasts at most 7 days; this one would last %(days)s days. "
                         "Plan longer duty as several shifts.")
            % {"days": (shift.ends_at - shift.starts_at).days})
    else:
        for other in DutyShift.objects.select_related("engineer").filter(
                starts_at__lt=shift.ends_at, ends_at__gt=shift.starts_at).exclude(pk=shift.pk):
            add("starts_at", _("It overlaps %(person)s's shift from %(start)s to %(end)s: two "
                               "people on duty at once leaves unclear who triages. Shorten or "
                               "move one of them.")
                % {"person": other.engineer, "start": moment(other.starts_at),
                   "end": moment(other.ends_at)})
    if shift.backup_id and shift.backup_id == shift.engineer_id:
        add("backup", _("The backup must be someone other than the duty engineer."))
    if not model_rules:
        return problems
    try:
        # The roles (only duty engineers, active) are the model's own rule, for every door.
        shift.full_clean(validate_constraints=False)
    except ValidationError as exc:
        for name, errors in exc.error_dict.items():
            problems.setdefault(name, []).extend(errors)
    return problems


def _check(shift: DutyShift) -> None:
    problems = shift_problems(shift)
    if problems:
        raise ValidationError(problems)  # type: ignore[arg-type]


@transaction.atomic
def plan_shift(*, by: User, starts_at: datetime, ends_at: datetime, engineer: User,
               backup: User | None = None) -> DutyShift:
    """Put ``engineer`` on duty from ``starts_at`` to ``ends_at`` (``backup`` standing by)."""
    shift = DutyShift(starts_at=starts_at, ends_at=ends_at, engineer=engineer, backup=backup)
    _check(shift)
    shift.save()
    audit.added(by=by, obj=shift)
    return shift


@transaction.atomic
def change_shift(*, by: User, shift: DutyShift, **fields: object) -> DutyShift:
    """Change the bounds or the people of ``shift``; only the fields given change."""
    changed = [name for name in SHIFT_FIELDS
               if name in fields and fields[name] != getattr(shift, name)]
    for name in changed:
        setattr(shift, name, fields[name])
    if not changed:
        return shift
    _check(shift)
    shift.save(update_fields=changed)
    audit.changed(by=by, obj=shift, fields=changed)
    return shift


@transaction.atomic
def remove_shift(*, by: User, shift: DutyShift) -> None:
    """Take ``shift`` off the roster."""
    audit.deleted(by=by, obj=shift)
    shift.delete()
