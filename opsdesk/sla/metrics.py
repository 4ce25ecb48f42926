"""The SLA's figures for Prometheus (runtime/metrics.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from opsdesk.runtime.metrics import Gauge, gauge
from opsdesk.sla.models import Clock


def figures(now: datetime) -> Iterator[Gauge]:
    """As the workspace's SLA queues count them: a running clock past its warning threshold
    but not yet due (at risk), or past its due time (breached)."""
    at_risk = Clock.objects.filter(warn_at__lte=now, breach_at__gt=now).count()
    breached = Clock.objects.filter(breach_at__lte=now).count()
    yield gauge("opsdesk_sla_at_risk_tickets",
                "Tickets past an SLA warning threshold, not yet breached.", at_risk)
    yield gauge("opsdesk_sla_breached_tickets",
                "Tickets with a running SLA clock past its due time.", breached)
