"""Every write of the Zabbix and generic webhook intakes. Both reuse the Alertmanager intake's
pieces: its secrets, its stored payloads and replay (services.process), and its identity →
ticket table (Alert), so that a repeat never opens a second ticket."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.intake import alerts, webhook, zabbix
from opsdesk.intake.errors import BadSecret, IntegrationDisabled
from opsdesk.intake.models import Alert, InboundMessage, Integration, IntegrationKind
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import SourceKind
from opsdesk.tickets.errors import NotFound
from opsdesk.tickets.models import TimelineEvent

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
# What the priority matrix gives when a source says nothing about impact or urgency: medium.
DEFAULT_IMPACT_URGENCY = ("few_users", "normal")


def receive_zabbix(integration: Integration, payload: Any,
                   message: InboundMessage) -> dict[str, Any]:
    """One ticket per problem event: a problem opens it (a resent problem counts an
    occurrence), an update is noted on its timeline, a recovery resolves it and, unless the
    integration says otherwise, closes it if nobody acknowledged it, in opsdesk or in Zabbix.
    An acknowledgement in Zabbix only keeps the ticket from that closing; the SLA response
    clock waits for a response in opsdesk."""
    event = zabbix.parse(payload, integration.options)
    if isinstance(event, zabbix.ZabbixUpdate):
        return _note_zabbix_update(integration, event)
    outcome = alerts.receive_alerts(integration=integration, notices=[event]).as_dict()
    keys = outcome["created"] + outcome["repeated"] + outcome["resolved"]
    return {"event": "problem" if event.firing else "recovery",
            "ticket": keys[0] if keys else None, **outcome}


def _note_zabbix_update(integration: Integration, update: zabbix.ZabbixUpdate
                        ) -> dict[str, Any]:
    """The update on the problem's ticket: who did what, with their comment. An
    acknowledgement is remembered on the alert (withdrawing it forgets it), so that the
    recovery leaves the ticket for the engineer instead of closing it as unanswered."""
    alert = (Alert.objects.select_for_update(of=("self",)).select_related("ticket")
             .filter(integration=integration, identity=update.identity).first())
    if alert is None:
        return {"event": "update", "ticket": None, "ignored": 1}
    if update.acknowledged is not None:
        alert.acknowledged_at = (update.at or timezone.now()) if update.acknowledged else None
        alert.acknowledged_by = update.user[:255] if update.acknowledged else ""
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    data: dict[str, Any] = {"status": "updated", "identity": update.identity, "user": update.user,
            "action": update.action, "message": update.message, "severity": update.severity}
    if update.acknowledged is not None:
        data["acknowledged"] = update.acknowledged
    tickets.record_event(ticket=alert.ticket, kind=TimelineEvent.Kind.ALERT, actor=None,
                         data=data)
    return {"event": "update", "ticket": alert.ticket.key, "ignored": 0}


def signing_key(integration: Integration) -> str:
    """The key a webhook source signs its bodies with (HMAC-SHA256). Derived from the
    integration's secret digest and opsdesk's secret key, so that the database alone does not
    reveal it; it changes when the secret is rotated."""
    derived = hmac.new(settings.SECRET_KEY.encode(),
                       b"opsdesk-webhook-signing:" + integration.secret_digest.encode(),
                       hashlib.sha256)
    return "whs_" + derived.hexdigest()


def _signature_matches(integration: Integration, body: bytes, presented: str) -> bool:
    """A hex or base64 HMAC-SHA256 of the body, with or without a "sha256=" prefix."""
    digest = hmac.new(signing_key(integration).encode(), body, hashlib.sha256).digest()
    presented = presented.strip().removeprefix("sha256=")
    return any(hmac.compare_digest(presented.encode(), expected.encode())
               for expected in (digest.hex(), base64.b64encode(digest).decode()))


def authenticate_webhook(*, slug: str, body: bytes, bearer: str | None,
                         headers: Mapping[str, str], remote_addr: str) -> Integration:
    """The enabled webhook integration named ``slug``, if the request carries its secret (or,
    when the integration has a ``signature_header``, a valid signature of the body). A refusal
    is logged with the caller's address, never with what was presented."""
    integration = Integration.objects.filter(kind=IntegrationKind.WEBHOOK, name=slug).first()
    if integration is None:
        raise NotFound(_("There is no webhook integration named %s.") % slug)
    options = integration.options if isinstance(integration.options, dict) else {}
    header = options.get("signature_header")
    if isinstance(header, str) and header:
        if not _signature_matches(integration, body, headers.get(header, "")):
            log.warning("intake webhook %s: refused a request from %s with a wrong or missing "
                        "signature", slug, remote_addr)
            raise BadSecret(_("Wrong or missing signature in the %s header.") % header)
    elif not bearer or not integration.secret_matches(bearer):
        log.warning("intake webhook %s: refused a request from %s with a wrong or missing "
                    "secret", slug, remote_addr)
        raise BadSecret(_("Wrong or missing integration secret."))
    if not integration.enabled:
        log.warning("intake webhook %s: refused a request from %s for the disabled "
                    "integration", slug, remote_addr)
        raise IntegrationDisabled(
            _("The integration %s is disabled; an administrator can enable it again.") % slug
        )
    return integration


def receive_webhook(integration: Integration, payload: Any,
                    message: InboundMessage) -> dict[str, Any]:
    """One ticket per idempotency key: the first report opens it, a repeat answers with the
    same ticket (and counts an occurrence)."""
    report = webhook.read(payload, integration.options,
                          idempotency_header=message.headers.get(IDEMPOTENCY_HEADER, ""))
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
    Alert.objects.filter(pk=known.pk).update(occurrences=F("occurrences") + 1, last_seen=now)
    return {"ticket": known.ticket.key, "created": False,
            "idempotency_key": report.idempotency_key}


def _locked_report(integration: Integration, key: str) -> Alert | None:
    return (Alert.objects.select_for_update(of=("self",)).select_related("ticket")
            .filter(integration=integration, identity=key).first())


def _open_ticket(integration: Integration, report: webhook.Report,
                 now: datetime) -> dict[str, Any]:
    fields = dict(report.fields)
    if not fields["impact"] or not fields["urgency"]:
        impact, urgency = (alerts.IMPACT_URGENCY[fields["priority"]] if fields["priority"]
                           else DEFAULT_IMPACT_URGENCY)
        fields["impact"] = fields["impact"] or impact
        fields["urgency"] = fields["urgency"] or urgency
    module = get_module_by_ref(report.module) if report.module else None
    fields.setdefault("submitter_name", integration.name)
    ticket = tickets.create_ticket(
        by=None, source_kind=SourceKind.USER_REPORT, channel=report.channel,
        module=module.code if module else None, **fields,
    )
    Alert.objects.create(
        integration=integration, identity=report.idempotency_key, ticket=ticket,
        first_seen=now, last_seen=now,
        labels={k: v for k, v in (("external_id", report.external_id),) if v},
    )
    return {"ticket": ticket.key, "created": True, "idempotency_key": report.idempotency_key}
