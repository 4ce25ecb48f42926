"""The ids, dates and times opsdesk accepts, from whichever door they come (API, pages,
intake, filters).

An id is a positive whole number of ASCII digits that a database column can hold: ``"²"``
passes ``str.isdigit()`` and ``2**64`` overflows SQLite's integers, so both name nothing.

A moment outside these bounds is refused where it enters: year 9999 at -10:00 is past the
end of Python's calendar once turned to UTC, and a database that stored it could no longer
read back any list holding it. A moment that says when something *happened* may also not lie
in the future, beyond a day's leeway for a sender's clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import AfterValidator, Field

MAX_ID = 2**63 - 1  # the largest BigAutoField value


def positive_int(raw: object) -> int | None:
    """The positive whole number ``raw`` (text or a number) names, such as an id or a count
    of days, or None if it names none a database column can hold."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit():
        number = int(raw)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


class IdConverter:
    """``<id:name>`` in a URL: an id a column can hold; anything larger is a 404, not an
    overflow in the database."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = positive_int(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# How far in the future a moment in the past may seem: a sender's clock may run ahead.
CLOCK_LEEWAY = timedelta(days=1)


class MomentOutOfRange(ValueError):
    """The message names the range, in the active language."""


def aware(value: datetime) -> datetime:
    """A time without an offset is in the caller's own time zone."""
    if timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_current_timezone())
    return value


def check_moment(value: datetime) -> datetime:
    """``value``, made aware, if it lies between EARLIEST and LATEST."""
    value = aware(value)
    try:
        inside = EARLIEST <= value < LATEST
    except OverflowError:  # so far off that comparing it overflows
        inside = False
    if not inside:
        raise MomentOutOfRange(_("Dates must lie between %(earliest)s and %(latest)s.") % {
            "earliest": EARLIEST.date().isoformat(),
            "latest": (LATEST.date() - timedelta(days=1)).isoformat()})
    return value


def check_past_moment(value: datetime) -> datetime:
    """``value`` as ``check_moment`` takes it, and not in the future (beyond CLOCK_LEEWAY)."""
    value = check_moment(value)
    if value > timezone.now() + CLOCK_LEEWAY:
        raise MomentOutOfRange(_("This time is in the future."))
    return value


def check_date(value: date) -> date:
    check_moment(datetime(value.year, value.month, value.day, tzinfo=UTC))
    return value


# For API schemas: the same checks, refused as a 422 that names the field.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Moment = Annotated[datetime, AfterValidator(check_moment)]
PastMoment = Annotated[datetime, AfterValidator(check_past_moment)]
Day = Annotated[date, AfterValidator(check_date)]
