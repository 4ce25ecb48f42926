"""A customer-service system posts to /api/v1/intake/webhook/<slug>: its JSON read through the
mapping configured on the integration, one ticket per idempotency key, every payload kept."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from opsdesk.accounts.models import Module
from opsdesk.intake import integrations, payloads
from opsdesk.intake.errors import NotReplayable
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus, WebhookReport
from opsdesk.tickets.choices import Channel, Priority, SourceKind
from opsdesk.tickets.models import Ticket
from tests.conftest import Api
from tests.intake.conftest import Sender
from tests.intake.webhook_reports import MAPPING, report


@pytest.fixture
def kf(make_webhook: Callable[..., Sender]) -> Sender:
    return make_webhook(**MAPPING)


def ticket_of(answer: dict[str, Any]) -> Ticket:
    return Ticket.objects.get(pk=int(answer["ticket"].split("-")[1]))


def test_a_report_opens_a_ticket_mapped_from_their_fields(kf: Sender, payment: Module) -> None:
    response = kf.post(report())

    assert response.status_code == 201, response.content.decode()
    answer = response.json()
    assert answer["created"] is True and answer["idempotency_key"] == "5521"
    ticket = ticket_of(answer)
    assert ticket.title == "用户无法登录系统"
    assert ticket.description.startswith("从 09:10 起")
    assert (ticket.submitter_name, ticket.submitter_contact, ticket.submitter_department) == (
        "刘洋", "liu.yang@example.com", "财务部")
    assert ticket.priority == Priority.HIGH
    assert ticket.occurred_at == datetime(2026, 11, 25, 1, 12, tzinfo=UTC)
    assert ticket.module == payment
    assert ticket.source_kind == SourceKind.USER_REPORT
    assert ticket.channel == Channel.CUSTOMER_SERVICE
    assert WebhookReport.objects.get().external_id == "5521"
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.PROCESSED and message.pk == answer["message"]


def test_a_repeat_answers_200_with_the_same_ticket(kf: Sender) -> None:
    first = kf.post(report()).json()
    again = kf.post(report(subject="用户无法登录系统（重发）"))
    other = kf.post(report(5522))

    assert again.status_code == 200
    assert again.json()["ticket"] == first["ticket"] and again.json()["created"] is False
    assert other.status_code == 201 and other.json()["ticket"] != first["ticket"]
    assert Ticket.objects.count() == 2
    assert WebhookReport.objects.get(idempotency_key="5521").deliveries == 2
    assert ticket_of(first).title == "用户无法登录系统"  # a repeat changes nothing


def test_a_report_is_no_alert(kf: Sender, api: dict[str, Api]) -> None:
    key = kf.post(report()).json()["ticket"]

    assert api["duty"].get(f"/tickets/{key}/alerts").json() == []
    assert not Alert.objects.exists()


def test_the_idempotency_key_may_come_from_a_configured_field(
    make_webhook: Callable[..., Sender]
) -> None:
    sender = make_webhook(**MAPPING, idempotency_key="event_id")
    first = sender.post(report()).json()
    # The same ticket, another event: by this source's rule, another report.
    second = sender.post({**report(), "event_id": "evt_5521_reopened"})
    assert first["idempotency_key"] == "evt_5521_created"
    assert second.status_code == 201 and Ticket.objects.count() == 2

    missing = sender.post({k: v for k, v in report().items() if k != "event_id"})
    assert missing.status_code == 422
    assert "'event_id' (the idempotency key)" in missing.json()["message"]


def test_the_idempotency_key_may_come_from_a_header_and_is_kept_for_replay(
    make_webhook: Callable[..., Sender]
) -> None:
    fields = {k: v for k, v in MAPPING["fields"].items() if k != "external_id"}
    sender = make_webhook(fields=fields, value_maps=MAPPING["value_maps"])
    headers = {"Authorization": f"Bearer {sender.secret}", "Idempotency-Key": "req-77"}

    first = sender.post(report(), headers=headers)
    again = sender.post(report(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["ticket"] == again.json()["ticket"]
    assert InboundMessage.objects.first().headers == {"Idempotency-Key": "req-77"}  # type: ignore[union-attr]
    none = sender.post(report())
    assert none.status_code == 422 and "Idempotency-Key" in none.json()["message"]


def test_constants_impact_and_urgency_and_the_ticket_platform_channel(
    make_webhook: Callable[..., Sender]
) -> None:
    sender = make_webhook(
        fields={"title": "issue.title", "impact": "issue.scope", "external_id": "issue.key"},
        constants={"submitter_name": "工单平台", "urgency": "immediate"},
        value_maps={"impact": {"全部用户": "all_users", "部分用户": "some_users"}},
        channel="ticket_platform",
    )
    answer = sender.post({"issue": {"key": "OPS-REQ-12", "title": "支付失败", "scope": "全部用户"}})
    assert answer.status_code == 201
    ticket = ticket_of(answer.json())
    assert (ticket.impact, ticket.urgency, ticket.priority) == (
        "all_users", "immediate", Priority.URGENT)
    assert ticket.submitter_name == "工单平台" and ticket.channel == Channel.TICKET_PLATFORM


def test_without_a_submitter_the_source_is_named(make_webhook: Callable[..., Sender]) -> None:
    sender = make_webhook(fields={"title": "t", "external_id": "id"})
    ticket = ticket_of(sender.post({"t": "报表导出超时", "id": 1}).json())
    assert ticket.submitter_name == "kf-system" and ticket.priority == Priority.MEDIUM


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer whk_not-the-secret-at-all"}, {},
], ids=["wrong", "missing"])
def test_a_wrong_or_missing_secret_is_refused_and_not_logged(
    kf: Sender, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        response = kf.post(report(), headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "bad_secret"
    assert InboundMessage.objects.count() == 0 and Ticket.objects.count() == 0
    assert "kf-system" in caplog.text and "127.0.0.1" in caplog.text
    assert "not-the-secret" not in caplog.text and kf.secret not in caplog.text


def test_another_webhooks_secret_is_refused(
    kf: Sender, make_webhook: Callable[..., Sender]
) -> None:
    other = make_webhook("ticket-platform", **MAPPING)
    assert kf.post(report(), secret=other.secret).status_code == 401


def test_an_unknown_or_disabled_source_is_refused(kf: Sender) -> None:
    kf.integration.enabled = False
    kf.integration.save()
    disabled = kf.post(report())
    assert disabled.status_code == 403 and "kf-system" in disabled.json()["message"]
    kf.url = "/api/v1/intake/webhook/no-such-source"
    unknown = kf.post(report())
    assert unknown.status_code == 404 and "no-such-source" in unknown.json()["message"]
    assert InboundMessage.objects.count() == 0


def sign(key: str, body: bytes, *, encoding: str = "hex") -> str:
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


@pytest.fixture
def signed(make_webhook: Callable[..., Sender]) -> Sender:
    return make_webhook("zendesk-cn", **MAPPING, signature_header="X-Signature")


@pytest.mark.parametrize("form", ["hex", "sha256=hex", "base64"])
def test_an_hmac_signed_report_is_accepted(signed: Sender, form: str) -> None:
    body = json.dumps(report(), ensure_ascii=False).encode()
    key = integrations.signing_key(signed.integration)
    signature = sign(key, body, encoding="base64" if form == "base64" else "hex")
    if form == "sha256=hex":
        signature = "sha256=" + signature
    response = signed.post(None, raw=body, headers={"X-Signature": signature})
    assert response.status_code == 201, response.content.decode()


@pytest.mark.parametrize("headers", [
    {"X-Signature": "sha256=" + "0" * 64}, {}, "bearer-only",
], ids=["wrong", "missing", "bearer-only"])
def test_a_wrong_or_missing_signature_is_refused_and_not_logged(
    signed: Sender, headers: dict[str, str] | str, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(report(), ensure_ascii=False).encode()
    if headers == "bearer-only":
        headers = {"Authorization": f"Bearer {signed.secret}"}
    with caplog.at_level("WARNING"):
        response = signed.post(None, raw=body, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert "X-Signature" in response.json()["message"]
    assert InboundMessage.objects.count() == 0
    assert "0" * 64 not in caplog.text and signed.secret not in caplog.text
    assert integrations.signing_key(signed.integration) not in caplog.text


def test_rotating_the_secret_changes_the_signing_key(signed: Sender) -> None:
    before = integrations.signing_key(signed.integration)
    integrations.rotate_secret(integration=signed.integration)
    body = json.dumps(report(), ensure_ascii=False).encode()
    assert integrations.signing_key(signed.integration) != before
    old = signed.post(None, raw=body, headers={"X-Signature": sign(before, body)})
    assert old.status_code == 401


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


@pytest.mark.parametrize(("raw", "named"), [
    (b'{"ticket": {', "not valid JSON"),
    (b'[{"ticket": {}}]', "not a JSON object"),
    (_json({"ticket": {"id": 1}}), "'ticket.subject' (mapped to the title)"),
    (_json(report(priority="P9")), "priority 'P9' (from 'ticket.priority')"),
    (_json(report(created_at="昨天上午")), "occurred_at '昨天上午'"),
    (_json(report(created_at="9999-12-31T23:59:59-23:00")),
     "occurred_at '9999-12-31T23:59:59-23:00' (from 'ticket.created_at') is outside the years"),
    (_json(report(created_at="1970-01-01T00:00:00Z")), "outside the years 2000 to 2099"),
    (_json(report(created_at="2099-06-01T00:00:00+08:00")), "is in the future"),
    (_json(report(subject={"zh": "无法登录"})), "'ticket.subject' holds an object"),
    (_json({**report(), "ticket": {**report()["ticket"], "id": None}}), "No idempotency key"),
], ids=["truncated", "array", "no-title", "unmapped-priority", "bad-time", "year-9999",
        "year-1970", "future", "object-title", "no-key"])
def test_a_payload_that_cannot_be_used_is_answered_422_and_kept(
    kf: Sender, raw: bytes, named: str
) -> None:
    response = kf.post(None, raw=raw)

    assert response.status_code == 422, response.content.decode()
    assert response.json()["code"] == "payload_rejected"
    assert named in response.json()["message"]
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.REJECTED and bytes(message.body) == raw
    assert message.error == response.json()["message"]
    assert Ticket.objects.count() == 0


def test_the_problem_is_named_in_chinese_too(kf: Sender) -> None:
    kf.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = kf.post(report(priority="P9"))
    assert response.status_code == 422
    assert "value_maps.priority" in response.json()["message"]
    assert "不是" in response.json()["message"]


def test_replay_after_fixing_the_mapping_creates_the_ticket_once(kf: Sender) -> None:
    assert kf.post(report(priority="紧急")).status_code == 422
    message_id = InboundMessage.objects.get().pk
    kf.integration.options = {**MAPPING, "value_maps": {"priority": {"紧急": "urgent"}}}
    kf.integration.save()

    result = payloads.replay(message_id=message_id)

    assert result["created"] is True
    assert ticket_of(result).priority == Priority.URGENT
    with pytest.raises(NotReplayable):
        payloads.replay(message_id=message_id)
    retry = kf.post(report(priority="紧急"))  # the source retried meanwhile
    assert retry.status_code == 200 and retry.json()["ticket"] == result["ticket"]
    assert Ticket.objects.count() == 1
