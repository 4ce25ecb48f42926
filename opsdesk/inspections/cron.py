"""Five-field cron expressions ("minute hour day-of-month month day-of-week"), evaluated on a
time zone's wall clock by cronsim, which follows Debian's cron. Pure: no database, no Django.

Besides numbers, ``*``, ranges, steps, lists, and month and weekday names, cronsim reads ``L``
(the month's last day), ``5L`` (its last Friday) and ``MON#1`` (its first Monday). When both
the day of the month and the day of the week are restricted, a day matching either is a match.
As in Debian's cron, a job at a fixed time that falls in a daylight-saving gap runs at the
first minute after the gap, and one in a fold runs once, at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from cronsim import CronSim, CronSimError

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_ALLOWED = ("0-59", "0-23", "1-31 or L", "1-12 or JAN-DEC", "0-7 or SUN-SAT")
# cronsim names the field it refuses, and nothing else, in its message.
_CRONSIM_FIELDS = {
    "Bad minute": 0, "Bad hour": 1, "Bad day-of-month": 2, "Bad month": 3,
    "Bad day-of-week": 4,
}
# Any moment will do to check an expression: cronsim needs one to start from.
_CHECK_FROM = datetime(2024, 1, 1, tzinfo=UTC)


class CronError(ValueError):
    """An expression that is not a valid five-field cron expression (the message says why)."""


@dataclass(frozen=True)
class CronSchedule:
    expression: str

    def next_after(self, moment: datetime, zone: tzinfo) -> datetime:
        """The first moment strictly after ``moment`` (aware) that the schedule names, in UTC.
        Raises CronError if it names no moment in the next 50 years (the 31st of February)."""
        # cronsim reads a fixed-time job on the naive wall clock: from the second pass of a
        # fold its first answer can be the earlier pass, so skip whatever is not after. In UTC:
        # datetimes sharing a zone compare by wall clock, ignoring the fold.
        after = moment.astimezone(UTC)
        for found in CronSim(self.expression, moment.astimezone(zone)):
            if found.astimezone(UTC) > after:
                return found.astimezone(UTC)
        raise CronError("the expression never matches")


def parse(expression: str) -> CronSchedule:
    """Parse a five-field cron expression or raise CronError naming the problem."""
    fields = expression.split()
    # cronsim would read six fields as seconds first; the desk schedules by the minute.
    if len(fields) != 5:
        raise CronError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    schedule = CronSchedule(" ".join(fields))
    try:
        schedule.next_after(_CHECK_FROM, UTC)
    except CronSimError as exc:
        raise CronError(_problem(fields, str(exc))) from exc
    return schedule


def _problem(fields: list[str], message: str) -> str:
    index = _CRONSIM_FIELDS.get(message)
    if index is None:
        return message
    if index == 2 and _valid(f"* * {fields[2]} * *"):
        # Each field is fine alone: the day never comes in the months named (31 February).
        return "the expression never matches"
    return f"{FIELDS[index]}: {fields[index]} is not valid (allowed: {_ALLOWED[index]})"


def _valid(expression: str) -> bool:
    try:
        CronSim(expression, _CHECK_FROM)
    except CronSimError:
        return False
    return True
