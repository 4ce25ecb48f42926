"""Intake endpoints. Each authenticates its integration by its own secret, stores the raw
payload, then uses it; the answer says what became of it. And the alerts a ticket tracks, for
whoever may see the ticket."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from opsdesk.accounts.addresses import client_address
from opsdesk.accounts.models import User
from opsdesk.intake import integrations, payloads, selectors
from opsdesk.intake.errors import PayloadTooLarge
from opsdesk.intake.models import IntegrationKind
from opsdesk.intake.schemas import AlertOut
from opsdesk.intake.webhooks.reports import IDEMPOTENCY_HEADER
from opsdesk.tickets import selectors as tickets

router = Router(tags=["intake"])

# Larger than Django's 2.5 MB form limit: a big Alertmanager group is still one notification.
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _body(request: HttpRequest) -> bytes:
    """The request body up to MAX_PAYLOAD_BYTES (read from the stream: request.body would stop
    at DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    body = request.read(MAX_PAYLOAD_BYTES + 1)
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            _("The payload is larger than %(limit)d MB; send smaller groups (max_alerts).")
            % {"limit": MAX_PAYLOAD_BYTES // (1024 * 1024)}
        )
    return body


@router.post("/intake/alertmanager", auth=None, summary="Prometheus Alertmanager webhook (v4)")
def alertmanager(request: HttpRequest) -> dict[str, Any]:
    remote = client_address(request) or ""
    integration = integrations.authenticate(
        kind=IntegrationKind.ALERTMANAGER, presented=_bearer(request), remote_addr=remote
    )
    message = payloads.store_inbound(
        integration=integration, channel=IntegrationKind.ALERTMANAGER, body=_body(request),
        content_type=request.content_type or "", remote_addr=remote,
    )
    return {"message": message.pk, **payloads.process(message=message)}


@router.post("/intake/zabbix", auth=None,
             summary="Zabbix media type: problem, update and recovery events")
def zabbix(request: HttpRequest) -> dict[str, Any]:
    remote = client_address(request) or ""
    integration = integrations.authenticate(
        kind=IntegrationKind.ZABBIX, presented=_bearer(request), remote_addr=remote
    )
    message = payloads.store_inbound(
        integration=integration, channel=IntegrationKind.ZABBIX, body=_body(request),
        content_type=request.content_type or "", remote_addr=remote,
    )
    return {"message": message.pk, **payloads.process(message=message)}


@router.post("/intake/webhook/{slug}", auth=None, response={200: Any, 201: Any},
             summary="Generic webhook of a customer-service system or ticket platform")
def webhook(request: HttpRequest, slug: str) -> Status[dict[str, Any]]:
    """201 with the new ticket; 200 with the same ticket for a repeat of an idempotency key."""
    remote = client_address(request) or ""
    body = _body(request)
    integration = integrations.authenticate_webhook(
        slug=slug, body=body, bearer=_bearer(request), headers=request.headers,
        remote_addr=remote,
    )
    key = request.headers.get(IDEMPOTENCY_HEADER, "")[:255]
    message = payloads.store_inbound(
        integration=integration, channel=IntegrationKind.WEBHOOK, body=body,
        content_type=request.content_type or "", remote_addr=remote,
        headers={IDEMPOTENCY_HEADER: key} if key else {},
    )
    result = payloads.process(message=message)
    return Status(201 if result["created"] else 200, {"message": message.pk, **result})


@router.get("/tickets/{key}/alerts", response=list[AlertOut],
            summary="The alerts a ticket tracks, and every alert of their groups")
def ticket_alerts(request: HttpRequest, key: str) -> list[AlertOut]:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    ticket = tickets.get_ticket(user=user, key=key)
    return [AlertOut.of(alert) for alert in selectors.alerts_of(ticket=ticket)]
