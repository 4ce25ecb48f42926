"""Count, mean, median and 90th percentile of a duration per group.

Percentiles are the nearest rank (⌈n·p/100⌉, as the dashboard's times report takes them) on
both databases:

- PostgreSQL computes them itself (``percentile_disc``, one sort per group, one row per group
  back);
- SQLite has no percentile aggregate, so the durations are streamed to Python as
  (group, seconds) pairs, kept in compact arrays of doubles (8 bytes each: 4 MB for a year of
  500,000 tickets) and sorted per group. At 1,000,000 tickets this takes half the time of
  ranking them with SQLite's window functions, which sort every row with its group and
  evaluate three windows (bench/README.md, *Reports*).
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import Combinable

MEDIAN, P90 = 50, 90
FETCH = 5000

AGGREGATED = """
SELECT report_group, COUNT(*), AVG(report_seconds),
       percentile_disc({median}) WITHIN GROUP (ORDER BY report_seconds),
       percentile_disc({p90}) WITHIN GROUP (ORDER BY report_seconds)
FROM ({rows}) AS measured
GROUP BY report_group
"""


@dataclass(frozen=True)
class Summary:
    count: int
    mean_seconds: float
    median_seconds: float
    p90_seconds: float


def summarise(rows: QuerySet[Any], *, group: Combinable,
              seconds: Combinable) -> dict[Any, Summary]:
    """For each value of ``group`` among ``rows``, the summary of ``seconds``."""
    measured = rows.annotate(report_group=group, report_seconds=seconds).values_list(
        "report_group", "report_seconds").order_by()
    sql, params = measured.query.get_compiler(using=measured.db).as_sql()
    connection = connections[measured.db]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(AGGREGATED.format(rows=sql, median=MEDIAN / 100, p90=P90 / 100),
                           params)
            return {key: Summary(size, float(mean), float(median), float(p90))
                    for key, size, mean, median, p90 in cursor.fetchall()}
        cursor.execute(sql, params)
        durations: dict[Any, array[float]] = defaultdict(lambda: array("d"))
        while batch := cursor.fetchmany(FETCH):
            for key, value in batch:
                durations[key].append(value)
    return {key: _summary(values) for key, values in durations.items()}


def _summary(values: array[float]) -> Summary:
    ordered = sorted(values)
    size = len(ordered)
    return Summary(size, sum(ordered) / size, ordered[_rank(size, MEDIAN) - 1],
                   ordered[_rank(size, P90) - 1])


def _rank(size: int, percent: int) -> int:
    return (size * percent + 99) // 100
