"""Intake's figures for Prometheus (runtime/metrics.py): what became of each stored payload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count

from opsdesk.intake.mail.services import CHANNEL as MAIL_CHANNEL
from opsdesk.intake.models import InboundMessage, InboundStatus, IntegrationKind
from opsdesk.runtime.metrics import Gauge

# What became of a stored inbound payload, in the words of an operator's question: was it
# accepted or refused? (A refused mail is quarantined; a replay may later accept it.)
OUTCOMES = {
    InboundStatus.PROCESSED: "accepted",
    InboundStatus.PARTLY_REJECTED: "partly_refused",
    InboundStatus.REJECTED: "refused",
    InboundStatus.QUARANTINED: "refused",
    InboundStatus.FAILED: "failed",
    InboundStatus.RECEIVED: "pending",
}
CHANNELS = (*IntegrationKind.values, str(MAIL_CHANNEL))


def figures(now: datetime) -> Iterator[Gauge]:
    rows = InboundMessage.objects.order_by().values("channel", "status").annotate(n=Count("*"))
    counts: dict[tuple[str, str], int] = dict.fromkeys(
        ((channel, outcome) for channel in CHANNELS
         for outcome in dict.fromkeys(OUTCOMES.values())), 0)
    for row in rows:
        key = (row["channel"], OUTCOMES.get(row["status"], row["status"]))
        counts[key] = counts.get(key, 0) + row["n"]
    figure = Gauge(
        "opsdesk_intake_messages",
        "Inbound payloads kept (alerts, webhooks, mail), by channel and outcome: accepted, "
        "partly_refused, refused (rejected or quarantined), failed, pending.",
        ("channel", "outcome"))
    for (channel, outcome), count in counts.items():
        figure.add((channel, outcome), count)
    yield figure
