"""What Prometheus scrapes at ``/metrics``: the desk's state, counted from the database at each
scrape (every process of every machine answers the same), each figure one aggregate over an
index. The runtime's own figures are the task queue and the live workers; the apps register
theirs in AppConfig.ready() (``register``): tickets by status and priority and the dispatch
lag, SLA at risk and breached, intake by channel and outcome, failing notifications.

Nobody reads it without ``OPSDESK_METRICS_TOKEN`` (``Authorization: Bearer``) or an address in
``OPSDESK_METRICS_ALLOW`` (the client behind trusted proxies); with neither set, nobody does.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from opsdesk.runtime.addresses import client_address
from opsdesk.runtime.health import HEARTBEAT_FRESH_FOR
from opsdesk.runtime.models import WorkerHeartbeat

if TYPE_CHECKING:
    from prometheus_client.core import Metric


@dataclass
class Gauge:
    """One figure as an app states it, without knowing Prometheus: unlabelled, or one value
    per combination of ``labels``."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    values: list[tuple[Sequence[str], float]] = field(default_factory=list)

    def add(self, labels: Sequence[str], value: float) -> Gauge:
        self.values.append((labels, value))
        return self


def gauge(name: str, documentation: str, value: float) -> Gauge:
    """An unlabelled figure."""
    return Gauge(name, documentation).add((), value)


Figures = Callable[[datetime], Iterable[Gauge]]
_registered: list[Figures] = []


def register(figures: Figures) -> None:
    """Have every scrape state what ``figures(now)`` yields (from AppConfig.ready())."""
    if figures not in _registered:
        _registered.append(figures)


def may_scrape(request: HttpRequest) -> bool | None:
    """True when the request shows the metrics token or comes from an allowed network; False
    when a token is configured and was not shown (401); None when it may not (403)."""
    address = client_address(request)
    if address is not None and any(ipaddress.ip_address(address) in network
                                   for network in settings.OPSDESK_METRICS_ALLOW):
        return True
    token = settings.OPSDESK_METRICS_TOKEN
    if not token:
        return None
    scheme, _, shown = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(shown.strip().encode(),
                                                              token.encode())


class DeskCollector:
    """The desk's figures at one moment (a Prometheus collector)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()

    def collect(self) -> Iterator[Metric]:
        # Loaded at the first scrape: the apps register their figures at every start, and a
        # worker or a command has no use for Prometheus's 12 MB.
        from prometheus_client.core import GaugeMetricFamily

        for figures in (*_registered, task_queue, live_workers):
            for figure in figures(self.now):
                family = GaugeMetricFamily(figure.name, figure.documentation,
                                           labels=figure.labels)
                for labels, value in figure.values:
                    family.add_metric(labels, value)
                yield family


def task_queue(now: datetime) -> Iterator[Gauge]:
    """Tasks due and waiting for a worker (a task scheduled for later is not waiting yet),
    and how long the longest has waited: since it was queued, or since it fell due."""
    as_soon_as_possible = Q(run_after=get_date_max())
    fell_due = Q(run_after__lte=now)
    waiting = DBTaskResult.objects.filter(as_soon_as_possible | fell_due,
                                          status=TaskResultStatus.READY).aggregate(
        depth=Count("*"),
        queued=Min("enqueued_at", filter=as_soon_as_possible),
        fell_due=Min("run_after", filter=fell_due),
    )
    since = min((at for at in (waiting["queued"], waiting["fell_due"]) if at is not None),
                default=None)
    yield gauge("opsdesk_task_queue_depth", "Tasks due and waiting for a worker.",
                waiting["depth"])
    yield gauge("opsdesk_task_queue_oldest_age_seconds",
                "How long the longest-waiting due task has waited (0: none).",
                seconds_since(since, now))


def live_workers(now: datetime) -> Iterator[Gauge]:
    alive = WorkerHeartbeat.objects.filter(seen_at__gt=now - HEARTBEAT_FRESH_FOR).count()
    yield gauge("opsdesk_workers", "Workers whose heartbeat is under a minute old.", alive)


def seconds_since(moment: datetime | None, now: datetime) -> float:
    """Seconds from ``moment`` to ``now``; 0 when there is no such moment."""
    return 0.0 if moment is None else max((now - moment).total_seconds(), 0.0)
