"""What Prometheus scrapes at ``/metrics``: the desk's state, counted from the database at each
scrape (every process of every machine answers the same), each figure one aggregate over an
index: tickets by status and priority, SLA at risk and breached, intake by channel and
outcome, the task queue, the dispatching of new tickets, failing notifications, live workers.

Nobody reads it without ``OPSDESK_METRICS_TOKEN`` (``Authorization: Bearer``) or an address in
``OPSDESK_METRICS_ALLOW`` (the client behind trusted proxies); with neither set, nobody does.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from opsdesk.accounts.addresses import client_address
from opsdesk.intake.mail.services import CHANNEL as MAIL_CHANNEL
from opsdesk.intake.models import InboundMessage, InboundStatus, IntegrationKind
from opsdesk.notify.choices import ChannelKind, DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.runtime.health import HEARTBEAT_FRESH_FOR
from opsdesk.runtime.models import WorkerHeartbeat
from opsdesk.sla.models import Clock
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket

# What became of a stored inbound payload, in the words of an operator's question: was it
# accepted or refused? (A refused mail is quarantined; a replay may later accept it.)
INTAKE_OUTCOMES = {
    InboundStatus.PROCESSED: "accepted",
    InboundStatus.PARTLY_REJECTED: "partly_refused",
    InboundStatus.REJECTED: "refused",
    InboundStatus.QUARANTINED: "refused",
    InboundStatus.FAILED: "failed",
    InboundStatus.RECEIVED: "pending",
}
INTAKE_CHANNELS = (*IntegrationKind.values, str(MAIL_CHANNEL))
NOTIFICATION_FAILURES = (DeliveryStatus.FAILED, DeliveryStatus.ABANDONED)


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


class DeskCollector(Collector):
    """The desk's figures at one moment."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()

    def collect(self) -> Iterator[Metric]:
        yield tickets_by_status_and_priority()
        yield from sla_at_risk_and_breached(self.now)
        yield intake_by_channel_and_outcome()
        yield from task_queue(self.now)
        yield from dispatching(self.now)
        yield notification_failures()
        yield live_workers(self.now)


def tickets_by_status_and_priority() -> GaugeMetricFamily:
    counts = {(row["status"], row["priority"]): row["n"] for row in
              Ticket.objects.order_by().values("status", "priority").annotate(n=Count("*"))}
    family = GaugeMetricFamily("opsdesk_tickets", "Tickets by status and priority.",
                               labels=["status", "priority"])
    for status in Status.values:
        for priority in Priority:
            family.add_metric([status, priority.code], counts.get((status, priority.value), 0))
    return family


def sla_at_risk_and_breached(now: datetime) -> Iterator[GaugeMetricFamily]:
    """As the workspace's SLA queues count them: a running clock past its warning threshold
    but not yet due (at risk), or past its due time (breached)."""
    at_risk = Clock.objects.filter(warn_at__lte=now, breach_at__gt=now).count()
    breached = Clock.objects.filter(breach_at__lte=now).count()
    yield GaugeMetricFamily("opsdesk_sla_at_risk_tickets",
                            "Tickets past an SLA warning threshold, not yet breached.",
                            value=at_risk)
    yield GaugeMetricFamily("opsdesk_sla_breached_tickets",
                            "Tickets with a running SLA clock past its due time.", value=breached)


def intake_by_channel_and_outcome() -> GaugeMetricFamily:
    rows = InboundMessage.objects.order_by().values("channel", "status").annotate(n=Count("*"))
    counts: dict[tuple[str, str], int] = dict.fromkeys(
        ((channel, outcome) for channel in INTAKE_CHANNELS
         for outcome in dict.fromkeys(INTAKE_OUTCOMES.values())), 0)
    for row in rows:
        key = (row["channel"], INTAKE_OUTCOMES.get(row["status"], row["status"]))
        counts[key] = counts.get(key, 0) + row["n"]
    family = GaugeMetricFamily(
        "opsdesk_intake_messages",
        "Inbound payloads kept (alerts, webhooks, mail), by channel and outcome: accepted, "
        "partly_refused, refused (rejected or quarantined), failed, pending.",
        labels=["channel", "outcome"])
    for (channel, outcome), count in counts.items():
        family.add_metric([channel, outcome], count)
    return family


def task_queue(now: datetime) -> Iterator[GaugeMetricFamily]:
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
    yield GaugeMetricFamily("opsdesk_task_queue_depth", "Tasks due and waiting for a worker.",
                            value=waiting["depth"])
    yield GaugeMetricFamily("opsdesk_task_queue_oldest_age_seconds",
                            "How long the longest-waiting due task has waited (0: none).",
                            value=_seconds_since(since, now))


def dispatching(now: datetime) -> Iterator[GaugeMetricFamily]:
    """New tickets not yet dispatched (routed, SLA started, people told) and the oldest's
    age: the dispatch lag."""
    waiting = Ticket.objects.filter(dispatched=False)
    oldest = waiting.order_by("id").values_list("created_at", flat=True).first()
    yield GaugeMetricFamily("opsdesk_dispatch_backlog", "New tickets waiting to be dispatched.",
                            value=waiting.count())
    yield GaugeMetricFamily("opsdesk_dispatch_lag_seconds",
                            "Age of the oldest ticket waiting to be dispatched (0: none).",
                            value=_seconds_since(oldest, now))


def notification_failures() -> GaugeMetricFamily:
    rows = (Delivery.objects.filter(status__in=NOTIFICATION_FAILURES).order_by()
            .values("status", "channel_kind").annotate(n=Count("*")))
    counts = {(row["status"], row["channel_kind"]): row["n"] for row in rows}
    family = GaugeMetricFamily(
        "opsdesk_notification_failures",
        "Notification deliveries that failed: failed (will be retried) or abandoned.",
        labels=["status", "channel"])
    for status in NOTIFICATION_FAILURES:
        for channel in ChannelKind.values:
            family.add_metric([status.value, channel], counts.get((status.value, channel), 0))
    return family


def live_workers(now: datetime) -> GaugeMetricFamily:
    alive = WorkerHeartbeat.objects.filter(seen_at__gt=now - HEARTBEAT_FRESH_FOR).count()
    return GaugeMetricFamily("opsdesk_workers", "Workers whose heartbeat is under a minute old.",
                             value=alive)


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    return 0.0 if moment is None else max((now - moment).total_seconds(), 0.0)
