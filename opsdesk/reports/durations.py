"""Count, mean, median and 90th percentile of a duration per group, computed by the database.

SQLite has no percentile aggregate, so both databases rank each group's durations with window
functions and return only the rows at the nearest ranks (⌈n·p/100⌉, as the dashboard's times
report and PostgreSQL's percentile_disc take them): two rows per group cross the wire, not one
row per ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import Combinable

MEDIAN, P90 = 50, 90

# The group and the duration are computed once per row in a derived table and ranked outside
# it: Django's window annotations repeat each expression in every window's PARTITION BY and
# ORDER BY, which made SQLite evaluate them (a CASE per month, two strftime) several times per
# row and sort twice, three times slower.
RANKED = """
SELECT report_group, report_size, report_mean, report_rank, report_seconds FROM (
    SELECT report_group, report_seconds,
           ROW_NUMBER() OVER (PARTITION BY report_group ORDER BY report_seconds) AS report_rank,
           COUNT(*) OVER (PARTITION BY report_group) AS report_size,
           AVG(report_seconds) OVER (PARTITION BY report_group) AS report_mean
    FROM ({rows}) AS measured
) AS ranked
WHERE report_rank = (report_size * {median} + 99) / 100
   OR report_rank = (report_size * {p90} + 99) / 100
"""


@dataclass(frozen=True)
class Summary:
    count: int
    mean_seconds: float
    median_seconds: int
    p90_seconds: int


def summarise(rows: QuerySet[Any], *, group: Combinable,
              seconds: Combinable) -> dict[Any, Summary]:
    """For each value of ``group`` among ``rows``, the summary of ``seconds``."""
    measured = rows.annotate(report_group=group, report_seconds=seconds).values_list(
        "report_group", "report_seconds").order_by()
    sql, params = measured.query.get_compiler(using=measured.db).as_sql()
    found: dict[Any, dict[str, Any]] = {}
    with connections[measured.db].cursor() as cursor:
        cursor.execute(RANKED.format(rows=sql, median=MEDIAN, p90=P90), params)
        for key, size, mean, rank, value in cursor.fetchall():
            entry = found.setdefault(key, {"count": size, "mean": float(mean)})
            # The same row is both ranks in a group of one.
            if rank == _rank(size, MEDIAN):
                entry["median"] = value
            if rank == _rank(size, P90):
                entry["p90"] = value
    return {key: Summary(e["count"], e["mean"], e["median"], e["p90"])
            for key, e in found.items()}


def _rank(size: int, percent: int) -> int:
    return (size * percent + 99) // 100
