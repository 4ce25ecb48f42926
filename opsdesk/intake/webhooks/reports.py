"""What a stored webhook payload becomes: one ticket per report. The first delivery of an
idempotency key opens the ticket; a repeat answers with the same ticket and counts a delivery.
Its receiver is a row of ``payloads.RECEIVERS``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.intake.alerts.notices import IMPACT_URGENCY
from opsdesk.intake.models import InboundMessage, Integration, WebhookReport
from opsdesk.intake.webhooks import mapping
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import SourceKind

IDEMPOTENCY_HEADER = "Idempotency-Key"
# What the priority matrix gives when a source says nothing about impact or urgency: medium.
DEFAULT_IMPACT_URGENCY = IMPACT_URGENCY["medium"]


def receive_webhook(integration: Integration, payload: Any, message: InboundMessage
                    ) -> Callable[[], dict[str, Any]]:
    """A webhook payload read through its source's mapping; the write returned opens the
    report's ticket, or answers a repeat with the same ticket."""
    report = mapping.read(payload, integration.options,
                          idempotency_header=message.headers.get(IDEMPOTENCY_HEADER, ""))
    return partial(_take_report, integration, report)


def _take_report(integration: Integration, report: mapping.Report) -> dict[str, Any]:
    now = timezone.now()
    known = _locked_report(integration, report.idempotency_key)
    if known is None:
        try:
            with transaction.atomic():  # a savepoint: the losing ticket vanishes with it
                return _open_ticket(integration, report, now)
        except IntegrityError:
            known = _locked_report(integration, report.idempotency_key)
            if known is None:
                raise
    WebhookReport.objects.filter(pk=known.pk).update(deliveries=F("deliveries") + 1,
                                                     last_seen=now)
    return {"ticket": known.ticket.key, "created": False,
            "idempotency_key": report.idempotency_key}


def _locked_report(integration: Integration, key: str) -> WebhookReport | None:
    return (WebhookReport.objects.select_for_update(of=("self",)).select_related("ticket")
            .filter(integration=integration, idempotency_key=key).first())


def _open_ticket(integration: Integration, report: mapping.Report,
                 now: datetime) -> dict[str, Any]:
    fields = dict(report.fields)
    if not fields["impact"] or not fields["urgency"]:
        impact, urgency = (IMPACT_URGENCY[fields["priority"]] if fields["priority"]
                           else DEFAULT_IMPACT_URGENCY)
        fields["impact"] = fields["impact"] or impact
        fields["urgency"] = fields["urgency"] or urgency
    module = get_module_by_ref(report.module) if report.module else None
    fields.setdefault("submitter_name", integration.name)
    ticket = tickets.create_ticket(
        by=None, source_kind=SourceKind.USER_REPORT, channel=report.channel,
        module=module.code if module else None, **fields,
    )
    WebhookReport.objects.create(
        integration=integration, idempotency_key=report.idempotency_key,
        external_id=report.external_id, ticket=ticket, first_seen=now, last_seen=now,
    )
    return {"ticket": ticket.key, "created": True, "idempotency_key": report.idempotency_key}
