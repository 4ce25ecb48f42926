"""Cron expressions on a time zone's wall clock: Asia/Shanghai (no daylight saving), month
ends, leap days, and the gaps and folds of zones that do shift (as Debian's cron does)."""

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
        ("0 9 * * *", "2026-11-25 08:59", "2026-11-25 09:00"),
        # Strictly after: the moment itself is not its own next run.
        ("0 9 * * *", "2026-11-25 09:00", "2026-11-26 09:00"),
        ("*/15 * * * *", "2026-11-25 09:07:30", "2026-11-25 09:15"),
        # Working days at 09:00 and 14:30: from Friday afternoon to Monday morning.
        ("0,30 9,14 * * MON-FRI", "2026-11-27 14:31", "2026-11-30 09:00"),
        ("0 8 * * 7", "2026-11-25 00:00", "2026-11-29 08:00"),
        ("0 8 1-7/2 DEC *", "2026-11-25 00:00", "2026-12-01 08:00"),
        # Month ends: the 31st skips the months without one, across the year end.
        ("0 23 31 * *", "2026-11-01 00:00", "2026-12-31 23:00"),
        ("0 23 31 * *", "2026-12-31 23:00", "2027-01-31 23:00"),
        ("0 23 31 * *", "2027-01-31 23:00", "2027-03-31 23:00"),
        ("0 0 1 * *", "2026-12-31 23:59", "2027-01-01 00:00"),
        ("30 6 29 2 *", "2026-03-01 00:00", "2028-02-29 06:30"),
        # Day of month and day of week both given: either matches (Vixie cron).
        ("0 9 15 * FRI", "2026-12-12 00:00", "2026-12-15 09:00"),
        ("0 9 15 * FRI", "2026-12-15 10:00", "2026-12-18 09:00"),
        # The month's last day, and its first Monday.
        ("0 18 L * *", "2027-02-01 00:00", "2027-02-28 18:00"),
        ("0 9 * * MON#1", "2026-11-25 00:00", "2026-12-07 09:00"),
    ],
)
def test_next_run_on_the_shanghai_wall_clock(expression, after, expected):
    found = next_local(expression, datetime.fromisoformat(after).replace(tzinfo=SH))
    assert found == datetime.fromisoformat(expected).replace(tzinfo=SH)


@pytest.mark.parametrize("day", ["2026-03-08", "2026-03-29", "2026-10-25", "2026-11-01"])
def test_shanghai_has_no_daylight_saving_so_9am_is_always_01_utc(day):
    # The days other zones shift their clocks change nothing in Asia/Shanghai.
    start = datetime.fromisoformat(f"{day}T00:00:00+08:00")
    assert parse("0 9 * * *").next_after(start, SH) == datetime.fromisoformat(
        f"{day}T01:00:00+00:00")


def test_a_wall_time_inside_a_daylight_saving_gap_runs_right_after_it():
    # 02:30 did not exist in New York on 8 March 2026: the day's check runs at 03:00.
    found = next_local("30 2 * * *", datetime(2026, 3, 8, 0, 0, tzinfo=NY), NY)
    assert found == datetime(2026, 3, 8, 3, 0, tzinfo=NY)
    assert next_local("30 2 * * *", found, NY) == datetime(2026, 3, 9, 2, 30, tzinfo=NY)


def test_a_wall_time_that_happens_twice_runs_once():
    # 01:30 happened twice in New York on 1 November 2026.
    first = parse("30 1 * * *").next_after(datetime(2026, 11, 1, 0, 0, tzinfo=NY), NY)
    assert first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    following = parse("30 1 * * *").next_after(first, NY)
    assert following == datetime(2026, 11, 2, 1, 30, tzinfo=NY)
    # From the second pass of 01:00-02:00, the first pass of 01:30 is already past.
    second_pass = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NY)
    assert parse("30 1 * * *").next_after(second_pass, NY) == following


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 9 * *", "expected 5 fields"),
        ("0 9 * * * *", "expected 5 fields"),
        ("0 9 * * * 2026", "expected 5 fields"),
        ("60 9 * * *", r"minute: 60 is not valid \(allowed: 0-59\)"),
        ("0 24 * * *", "hour: 24 is not valid"),
        ("0 9 0 * *", "day of month: 0 is not valid"),
        ("0 9 X * *", "day of month: X is not valid"),
        ("0 9 * 13 *", "month: 13 is not valid"),
        ("0 9 * * 8", "day of week: 8 is not valid"),
        ("*/0 9 * * *", r"minute: \*/0 is not valid"),
        ("0 17-9 * * *", "hour: 17-9 is not valid"),
        ("0 9 1,,2 * *", "day of month: 1,,2 is not valid"),
        ("0 9 31 2 *", "never matches"),
        ("0 9 30 FEB *", "never matches"),
    ],
)
def test_bad_expressions_are_refused_saying_why(expression, problem):
    with pytest.raises(CronError, match=problem):
        parse(expression)
