"""The tickets' figures for Prometheus (runtime/metrics.py): tickets by status and priority,
and the dispatching of new tickets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count

from opsdesk.runtime.metrics import Gauge, gauge, seconds_since
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket


def figures(now: datetime) -> Iterator[Gauge]:
    yield by_status_and_priority()
    yield from dispatching(now)


def by_status_and_priority() -> Gauge:
    counts = {(row["status"], row["priority"]): row["n"] for row in
              Ticket.objects.order_by().values("status", "priority").annotate(n=Count("*"))}
    # Every status and priority, counted or not, so that an alert never misses a series.
    figure = Gauge("opsdesk_tickets", "Tickets by status and priority.", ("status", "priority"))
    for status in Status.values:
        for priority in Priority:
            figure.add((status, priority.code), counts.get((status, priority.value), 0))
    return figure


def dispatching(now: datetime) -> Iterator[Gauge]:
    """New tickets not yet dispatched (routed, SLA started, people told) and the oldest's
    age: the dispatch lag."""
    waiting = Ticket.objects.filter(dispatched=False)
    oldest = waiting.order_by("id").values_list("created_at", flat=True).first()
    yield gauge("opsdesk_dispatch_backlog", "New tickets waiting to be dispatched.",
                waiting.count())
    yield gauge("opsdesk_dispatch_lag_seconds",
                "Age of the oldest ticket waiting to be dispatched (0: none).",
                seconds_since(oldest, now))
