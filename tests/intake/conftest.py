"""Integrations (Alertmanager, generic webhook) and a client that posts to their endpoints
the way their senders do (``Authorization: Bearer <secret>``, a JSON body)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from opsdesk.intake import integrations
from opsdesk.intake.models import Integration, IntegrationKind

URL = "/api/v1/intake/alertmanager"


class Sender:
    """Posts to the Alertmanager endpoint with an integration's secret."""

    def __init__(self, integration: Integration, secret: str, url: str = URL) -> None:
        self.integration = integration
        self.secret = secret
        self.url = url
        self.client = Client(HTTP_ACCEPT_LANGUAGE="en")

    def post(self, payload: Any, *, secret: str | None = None, raw: bytes | None = None,
             headers: dict[str, str] | None = None) -> Any:
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        if headers is None:
            headers = {"Authorization": f"Bearer {secret or self.secret}"}
        return self.client.post(self.url, body, content_type="application/json", headers=headers)

    def send(self, payload: Any) -> dict[str, Any]:
        """Post and expect it accepted; the answer."""
        response = self.post(payload)
        assert response.status_code == 200, response.content.decode()
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def make_sender(db: None) -> Callable[..., Sender]:
    def make(name: str = "prometheus-prod", **options: Any) -> Sender:
        integration, secret = integrations.create_integration(
            name=name, kind=IntegrationKind.ALERTMANAGER, options=options
        )
        return Sender(integration, secret)

    return make


@pytest.fixture
def sender(make_sender: Callable[..., Sender]) -> Sender:
    return make_sender()


@pytest.fixture
def make_webhook(db: None) -> Callable[..., Sender]:
    def make(name: str = "kf-system", **options: Any) -> Sender:
        integration, secret = integrations.create_integration(
            name=name, kind=IntegrationKind.WEBHOOK, options=options
        )
        return Sender(integration, secret, url=f"/api/v1/intake/webhook/{name}")

    return make
