"""Deadline computations per second: random starts across 2025–2027 on business calendars.

Durations from 15 minutes to 10 business days; four calendars (Shanghai office hours with and
without lunch and 2027 overrides, Berlin without statutory holidays, 24x7). The target is
≥ 50,000 per second. Run alone with ``python -m bench.sla_calendar``; ``main()`` returns the
figures for the harness.
"""

from __future__ import annotations

import argparse
import random
import time as clock
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsdesk.sla.calendars import DayClassifier, WorkCalendar, WorkingTime

TARGET_PER_SECOND = 50_000


def _calendars() -> list[WorkCalendar]:
    # New instances (not ``work_calendar``'s shared ones) so that the cold figure is cold.
    overrides = DayClassifier(
        extra_working_days=frozenset({date(2027, 2, 20), date(2027, 10, 9)}),
        extra_holidays=frozenset({date(2027, 2, 11)}),
    )
    return [
        WorkCalendar(WorkingTime(lunch_start=time(12), lunch_end=time(13, 30)), overrides),
        WorkCalendar(WorkingTime(), DayClassifier()),
        WorkCalendar(
            WorkingTime(tz=ZoneInfo("Europe/Berlin"), day_start=time(8), day_end=time(17)),
            DayClassifier(use_statutory_holidays=False),
        ),
        WorkCalendar(WorkingTime(is_24x7=True), DayClassifier()),
    ]


def _cases(
    calendars: list[WorkCalendar], count: int, seed: int
) -> list[tuple[WorkCalendar, datetime, timedelta]]:
    rng = random.Random(seed)
    first = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2028, 1, 1, tzinfo=UTC) - first).total_seconds())
    cases = []
    for _ in range(count):
        calendar = rng.choice(calendars)
        start = first + timedelta(seconds=rng.randrange(span))
        longest = 10 * calendar.hours.day_length // timedelta(minutes=1)
        cases.append((calendar, start, timedelta(minutes=rng.randint(15, longest))))
    return cases


def _rate(cases: list[tuple[WorkCalendar, datetime, timedelta]]) -> float:
    began = clock.perf_counter()
    for calendar, start, duration in cases:
        calendar.add_business_time(start, duration)
    return len(cases) / (clock.perf_counter() - began)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_calendar", description=__doc__)
    parser.add_argument("--count", type=int, default=200_000, help="deadlines per run")
    parser.add_argument("--seed", type=int, default=20251001)
    args = parser.parse_args(argv)

    cases = _cases(_calendars(), args.count, args.seed)
    cold = _rate(cases)  # includes building each calendar's year tables on first use
    warm = max(_rate(cases) for _ in range(3))
    print(
        f"SLA deadlines: {warm:,.0f}/s warm, {cold:,.0f}/s cold "
        f"({args.count:,} random starts 2025–2027, 15 min – 10 business days, "
        f"{len(_calendars())} calendars; target ≥ {TARGET_PER_SECOND:,}/s)"
    )
    return {"deadlines_per_second": warm, "deadlines_per_second_cold": cold}


if __name__ == "__main__":
    main()
