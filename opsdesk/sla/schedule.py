"""The yearly reminder that the official schedule of a year (holidays and make-up working days,
调休) is missing from the calendar library, which stops at the last year it was released with.

Without it, a year's deadlines count the public holidays the ``holidays`` library computes and
no make-up working days, so an admin must enter those as overrides before they are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import translation

from opsdesk.sla.calendars import computed_holidays, official_schedule_known

# The State Council publishes next year's schedule around November: from December on, a year
# still missing from the library is worth an administrator's attention.
NEXT_YEAR_FROM = (12, 1)


def years_missing(today: date) -> list[int]:
    """This year, if its schedule is unknown; and from December on, next year, if unknown."""
    years = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_FROM:
        years.append(today.year + 1)
    return [year for year in years if not official_schedule_known(year)]


@dataclass(frozen=True)
class HolidayList:
    """A year's computed holidays, one a line, named in the language active when shown (a
    notification is rendered once per reader language)."""

    year: int

    def __str__(self) -> str:
        language = translation.get_language() or "en"
        return "\n".join(f"{day:%Y-%m-%d} {name}"
                         for day, name in computed_holidays(self.year, language))
