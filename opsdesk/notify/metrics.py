"""The notifications' figures for Prometheus (runtime/metrics.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count

from opsdesk.notify.choices import ChannelKind, DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.runtime.metrics import Gauge

FAILURES = (DeliveryStatus.FAILED, DeliveryStatus.ABANDONED)


def figures(now: datetime) -> Iterator[Gauge]:
    rows = (Delivery.objects.filter(status__in=FAILURES).order_by()
            .values("status", "channel_kind").annotate(n=Count("*")))
    counts = {(row["status"], row["channel_kind"]): row["n"] for row in rows}
    figure = Gauge("opsdesk_notification_failures",
                   "Notification deliveries that failed: failed (will be retried) or abandoned.",
                   ("status", "channel"))
    for status in FAILURES:
        for channel in ChannelKind.values:
            figure.add((status.value, channel), counts.get((status.value, channel), 0))
    yield figure
