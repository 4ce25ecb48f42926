"""An administrator configures a webhook source in the admin: the mapping is checked on save
with errors naming each problem, the secret (and signing key) is shown once, and a report
that failed is replayed from the admin once the mapping is fixed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from opsdesk.intake import integrations
from opsdesk.intake.models import InboundMessage, InboundStatus, Integration, IntegrationKind
from opsdesk.tickets.models import Ticket
from tests.intake.conftest import Sender

ADD = "/admin/intake/integration/add/"


@pytest.fixture
def admin(admin_client: Client) -> Client:
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def add(admin: Client, options: Any, name: str = "kf-system") -> Any:
    return admin.post(ADD, {"name": name, "kind": "webhook", "enabled": "on",
                            "options": json.dumps(options, ensure_ascii=False)}, follow=True)


def test_a_mapping_with_mistakes_is_refused_naming_each(admin: Client, db: None) -> None:
    response = add(admin, {
        "fields": {"titel": "ticket.subject", "description": "ticket..content"},
        "constants": {"urgency": "asap"},
        "value_maps": {"priority": {"P1": "critical"}},
        "signature_header": "X Signature",
        "chanel": "ticket_platform",
    })
    text = response.content.decode()
    assert "&#x27;titel&#x27; is not one of our fields" in text
    assert "fields.description must be a dotted path" in text
    assert "urgency &#x27;asap&#x27; is not one of" in text
    assert "priority &#x27;critical&#x27; is not one of" in text
    assert "The title must come from somewhere" in text
    assert "signature_header must be an HTTP header name" in text
    assert "Unknown option &#x27;chanel&#x27;" in text
    assert not Integration.objects.exists()


def test_the_mapping_errors_are_in_chinese_for_a_chinese_admin(
    admin_client: Client, db: None
) -> None:
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    text = add(admin_client, {"fields": {"titel": "subject"}}).content.decode()
    assert "不是我们的字段" in text


def test_a_signed_source_gets_its_secret_and_signing_key_once(admin: Client, db: None) -> None:
    response = add(admin, {"fields": {"title": "subject", "external_id": "id"},
                           "signature_header": "X-Signature"})
    text = response.content.decode()
    integration = Integration.objects.get(name="kf-system")
    assert integration.kind == IntegrationKind.WEBHOOK
    key = integrations.signing_key(integration)
    assert key in text and "X-Signature" in text
    assert re.search(r"whk_[\w-]+", text)
    page = admin.get(f"/admin/intake/integration/{integration.pk}/change/").content.decode()
    assert "/api/v1/intake/webhook/kf-system" in page and key not in page


def test_the_admin_replays_a_report_after_the_mapping_is_fixed(admin: Client, db: None) -> None:
    integration, secret = integrations.create_integration(
        name="kf-system", kind=IntegrationKind.WEBHOOK,
        options={"fields": {"title": "subject", "external_id": "id", "priority": "level"}},
    )
    sender = Sender(integration, secret, url="/api/v1/intake/webhook/kf-system")
    assert sender.post({"id": 9, "subject": "数据无法提交", "level": "高"}).status_code == 422
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.REJECTED

    change = admin.post(f"/admin/intake/integration/{integration.pk}/change/", {
        "name": "kf-system", "kind": "webhook", "enabled": "on",
        "options": json.dumps({"fields": {"title": "subject", "external_id": "id",
                                          "priority": "level"},
                               "value_maps": {"priority": {"高": "high"}}}),
    }, follow=True)
    assert change.status_code == 200
    for _click in range(2):
        admin.post("/admin/intake/inboundmessage/",
                   {"action": "replay", "_selected_action": [message.pk]}, follow=True)

    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED
    assert Ticket.objects.get().title == "数据无法提交"
