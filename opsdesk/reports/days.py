"""Counting rows per local day, and reading durations, by the database alone.

Django's date functions (``TruncDate(..., tzinfo=zone)``) run a Python function per row on
SQLite, which costs more than the rest of a dashboard query at 100,000 tickets. Here the database
counts rows per whole ``step`` seconds since the period's first midnight, a step that divides
every local day of the period (a day in Asia/Shanghai: 86,400 s, so one group per day; an hour
where daylight saving time shifts a day), and each step is then given to its local day.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from math import gcd
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, DateTimeField, F, Field, Func, Value
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
