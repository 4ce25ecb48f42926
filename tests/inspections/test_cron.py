"""Cron expressions on a time zone's wall clock: Asia/Shanghai (no daylight saving), month
ends, leap days, and the gaps and folds of zones that do shift."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from opsdesk.inspections.cron import CronError, parse

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def next_local(expression: str, after: datetime, zone: ZoneInfo = SH) -> datetime:
    found = parse(expression).next_after(after, zone)
    assert found.tzinfo is UTC
    return found.astimezone(zone)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 9 * * *", datetime(2026, 11, 25, 8, 59, tzinfo=SH), datetime(2026, 11, 25, 9, 0)),
        # Strictly after: the moment itself is not its own next run.
        ("0 9 * * *", datetime(2026, 11, 25, 9, 0, tzinfo=SH), datetime(2026, 11, 26, 9, 0)),
        ("*/15 * * * *", datetime(2026, 11, 25, 9, 7, 30, tzinfo=SH),
         datetime(2026, 11, 25, 9, 15)),
        # Working days at 09:00 and 14:30: from Friday afternoon to Monday morning.
        ("0,30 9,14 * * MON-FRI", datetime(2026, 11, 27, 14, 31, tzinfo=SH),
         datetime(2026, 11, 30, 9, 0)),
        ("0 8 * * 7", datetime(2026, 11, 25, tzinfo=SH), datetime(2026, 11, 29, 8, 0)),
        ("0 8 1-7/2 DEC *", datetime(2026, 11, 25, tzinfo=SH), datetime(2026, 12, 1, 8, 0)),
        # Month ends: the 31st skips the months without one, across the year end.
        ("0 23 31 * *", datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 12, 31, 23, 0)),
        ("0 23 31 * *", datetime(2026, 12, 31, 23, 0, tzinfo=SH), datetime(2027, 1, 31, 23, 0)),
        ("0 23 31 * *", datetime(2027, 1, 31, 23, 0, tzinfo=SH), datetime(2027, 3, 31, 23, 0)),
        ("0 0 1 * *", datetime(2026, 12, 31, 23, 59, tzinfo=SH), datetime(2027, 1, 1, 0, 0)),
        ("30 6 29 2 *", datetime(2026, 3, 1, tzinfo=SH), datetime(2028, 2, 29, 6, 30)),
        # Day of month and day of week both given: either matches (Vixie cron).
        ("0 9 15 * FRI", datetime(2026, 12, 12, tzinfo=SH), datetime(2026, 12, 15, 9, 0)),
        ("0 9 15 * FRI", datetime(2026, 12, 15, 10, 0, tzinfo=SH), datetime(2026, 12, 18, 9, 0)),
    ],
)
def test_next_run_on_the_shanghai_wall_clock(expression, after, expected):
    assert next_local(expression, after).replace(tzinfo=None) == expected


@pytest.mark.parametrize("day", ["2026-03-08", "2026-03-29", "2026-10-25", "2026-11-01"])
def test_shanghai_has_no_daylight_saving_so_9am_is_always_01_utc(day):
    # The days other zones shift their clocks change nothing in Asia/Shanghai.
    start = datetime.fromisoformat(f"{day}T00:00:00+08:00")
    assert parse("0 9 * * *").next_after(start, SH) == datetime.fromisoformat(
        f"{day}T01:00:00+00:00")


def test_a_wall_time_inside_a_daylight_saving_gap_is_skipped():
    # 02:30 did not exist in New York on 8 March 2026.
    found = next_local("30 2 * * *", datetime(2026, 3, 8, 0, 0, tzinfo=NY), NY)
    assert found.replace(tzinfo=None) == datetime(2026, 3, 9, 2, 30)


def test_a_wall_time_that_happens_twice_runs_once():
    # 01:30 happened twice in New York on 1 November 2026.
    first = parse("30 1 * * *").next_after(datetime(2026, 11, 1, 0, 0, tzinfo=NY), NY)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    following = parse("30 1 * * *").next_after(first, NY)
    assert following.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 2, 1, 30)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 9 * *", "expected 5 fields"),
        ("0 9 * * * *", "expected 5 fields"),
        ("60 9 * * *", "minute: 60 is outside 0-59"),
        ("0 24 * * *", "hour: 24 is outside 0-23"),
        ("0 9 0 * *", "day of month: 0 is outside 1-31"),
        ("0 9 L * *", "day of month: 'L' is not a number"),
        ("0 9 * 13 *", "month: 13 is outside 1-12"),
        ("0 9 * * 8", "day of week: 8 is outside 0-7"),
        ("*/0 9 * * *", "not a valid step"),
        ("0 17-9 * * *", "runs backwards"),
        ("0 9 1,,2 * *", "empty list entry"),
        ("0 9 31 2 *", "never matches"),
    ],
)
def test_bad_expressions_are_refused_saying_why(expression, problem):
    with pytest.raises(CronError, match=problem):
        parse(expression)
