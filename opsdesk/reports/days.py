"""Counting rows per local day or month, and reading durations, by the database alone.

Django's date functions (``TruncDate(..., tzinfo=zone)``) run a Python function per row on
SQLite, which costs more than the rest of a dashboard query at 100,000 tickets. Here the database
counts rows per whole ``step`` seconds since the period's first midnight, a step that divides
every local day of the period (a day in Asia/Shanghai: 86,400 s, so one group per day; an hour
where daylight saving time shifts a day), and each step is then given to its local day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from math import gcd
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    F,
    Field,
    Func,
    IntegerField,
    Value,
    When,
)
from django.db.models.sql.compiler import SQLCompiler

from opsdesk.reports.periods import Period


class Seconds(Func):
    """A duration column in seconds, as the float the database driver returns: Django turns
    each value of a DurationField into a timedelta, and of a FloatField into a float again, in
    Python, which costs more than reading the rows. A plain Field has no converter."""

    output_field = Field()

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, params = compiler.compile(self.get_source_expressions()[0])
        if connection.vendor == "sqlite":  # stored as integer microseconds
            return f"({column_sql} / 1000000.0)", tuple(params)
        return f"EXTRACT(EPOCH FROM {column_sql})::float8", tuple(params)


class Elapsed(Func):
    """Whole seconds from one datetime column to another (``end`` − ``start``), the same
    integer on both databases (fractions of a second are dropped from each moment)."""

    output_field = BigIntegerField()

    def __init__(self, end: str, start: str) -> None:
        super().__init__(F(end), F(start))

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        if connection.vendor == "sqlite":
            sql = (f"(CAST(strftime('%%s', {end_sql}) AS INTEGER)"
                   f" - CAST(strftime('%%s', {start_sql}) AS INTEGER))")
        else:
            sql = (f"(FLOOR(EXTRACT(EPOCH FROM {end_sql}))"
                   f" - FLOOR(EXTRACT(EPOCH FROM {start_sql})))::bigint")
        return sql, (*end_params, *start_params)


def month_of(column: str, bounds: Sequence[datetime]) -> Case:
    """The index of the month a datetime column falls in, for rows already within
    ``bounds[0]`` and ``bounds[-1]`` (the months' first midnights, then the end): a comparison
    per month in SQL, where a date function would run Python per row on SQLite."""
    return Case(*[When(**{f"{column}__lt": bound}, then=Value(i))
                  for i, bound in enumerate(bounds[1:-1])],
                default=Value(len(bounds) - 2), output_field=IntegerField())


class StepsSince(Func):
    """Whole ``step``-second intervals from ``origin`` to a datetime column (not before it)."""

    output_field = BigIntegerField()

    def __init__(self, column: str, *, origin: datetime, step: int) -> None:
        super().__init__(F(column), Value(origin, output_field=DateTimeField()))
        self.step = int(step)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,
               *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
        column, origin = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        origin_sql, origin_params = compiler.compile(origin)
        if connection.vendor == "sqlite":
            # strftime('%s') is integer seconds, parsed in C; fractions are dropped (floor).
            seconds = (f"(CAST(strftime('%%s', {column_sql}) AS INTEGER)"
                       f" - CAST(strftime('%%s', {origin_sql}) AS INTEGER))")
        else:
            seconds = f"FLOOR(EXTRACT(EPOCH FROM ({column_sql} - {origin_sql})))::bigint"
        return f"({seconds} / {self.step})", (*column_params, *origin_params)


def day_step(period: Period) -> int:
    """The longest step that never straddles a local midnight of ``period``."""
    return gcd(*period.midnight_seconds)


def day_of(step_index: int, step: int, period: Period) -> int:
    """The index in ``period.dates`` of the day that a step counted by ``StepsSince`` is in."""
    return bisect_right(period.midnight_seconds, step_index * step) - 1
