"""Chat robots and webhooks, received by a real HTTP server, and who is reached through what:
each user's and team's channels, the kinds a channel wants, email when nothing is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from opsdesk.accounts.models import User
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.services import add_channel, create_team, notify
from opsdesk.tickets.models import Ticket
from tests.notify.conftest import Mailbox, Receiver


def escalate(ticket: Ticket, recipients: list[Any], key: str = "escalated:1") -> list[Delivery]:
    return notify(
        kind="escalated", ticket=ticket, recipients=recipients,
        context={"reason": "需要采购新的服务器资源"}, dedupe_key=key,
    )


# Each robot's apprise URL, where it lands on the receiver, and where its text is in the JSON.
ROBOTS = [
    ("dingtalk", "dingtalk://0123456789abcdef0123/", "/dingtalk?access_token=0123456789abcdef0123",
     lambda j: j["text"]["content"]),
    ("wecom", "wecombot://ab12cd34-5678-90ef-abcd-ef0123456789",
     "/wecom?key=ab12cd34-5678-90ef-abcd-ef0123456789", lambda j: j["text"]["content"]),
    ("feishu", "feishu://f00dcafe-1234-5678", "/feishu/f00dcafe-1234-5678/",
     lambda j: j["content"]["text"]),
    ("feishu", "lark://1a2b3c4d-5e6f", "/lark/1a2b3c4d-5e6f", lambda j: j["content"]["text"]),
    ("slack", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7",
     "/slack/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7",
     lambda j: j["attachments"][0]["title"] + "\n" + j["attachments"][0]["text"]),
]


@pytest.mark.parametrize(("kind", "url", "path", "text_of"), ROBOTS)
def test_a_chat_robot_receives_the_message_in_its_own_format(
    robots_at: Receiver, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any],
    kind: str, url: str, path: str, text_of: Callable[[Any], str],
) -> None:
    add_channel(owner=readers["zh"], kind=kind, target=url)
    committed(escalate, ticket=ticket, recipients=[readers["zh"]])

    [request] = robots_at.requests
    assert request.path == path
    text = text_of(request.body)
    assert f"[{ticket.key}] 已升级：支付回调超时" in text
    assert f"{ticket.key} 已升级。原因：需要采购新的服务器资源" in text
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_a_plain_webhook_receives_opsdesks_json_document(
    receiver: Receiver, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any]
) -> None:
    add_channel(owner=readers["en"], kind="webhook", target=receiver.url + "/hooks/opsdesk")
    committed(escalate, ticket=ticket, recipients=[readers["en"]])

    [request] = receiver.requests
    delivery = Delivery.objects.get()
    assert request.path == "/hooks/opsdesk"
    assert request.headers["Idempotency-Key"] == delivery.dedupe_key
    assert request.body["id"] == delivery.dedupe_key
    assert request.body["kind"] == "escalated"
    assert request.body["language"] == "en"
    assert request.body["subject"] == f"[{ticket.key}] Escalated: 支付回调超时"
    assert request.body["ticket"] == {
        "key": ticket.key, "title": "支付回调超时", "priority": "high", "status": ticket.status,
        "url": f"http://127.0.0.1:8000/tickets/{ticket.key}/",
    }


def test_an_apprise_json_webhook(
    receiver: Receiver, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any]
) -> None:
    target = receiver.url.replace("http://", "json://") + "/apprise"
    add_channel(owner=readers["en"], kind="webhook", target=target)
    committed(escalate, ticket=ticket, recipients=[readers["en"]])

    [request] = receiver.requests
    assert request.path == "/apprise"
    assert request.body["title"] == f"[{ticket.key}] Escalated: 支付回调超时"
    assert "Reason: 需要采购新的服务器资源" in request.body["message"]


def test_a_user_with_channels_is_reached_only_through_them(
    smtp_server: Mailbox, receiver: Receiver, readers: dict[str, User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    add_channel(owner=readers["en"], kind="webhook", target=receiver.url + "/a")
    add_channel(owner=readers["en"], kind="email", target="alice.oncall@example.com")
    committed(escalate, ticket=ticket, recipients=[readers["en"]])

    assert [r.path for r in receiver.requests] == ["/a"]
    assert [m["To"] for m in smtp_server.messages] == ["alice.oncall@example.com"]


def test_a_channel_gets_only_the_kinds_it_wants(
    smtp_server: Mailbox, receiver: Receiver, readers: dict[str, User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    add_channel(owner=readers["en"], kind="webhook", target=receiver.url + "/breaches",
                kinds=["sla_breach", "emergency"])
    committed(escalate, ticket=ticket, recipients=[readers["en"]])
    # A user who chose their channels chose silence for the rest: no email fallback either.
    assert receiver.requests == [] and smtp_server.messages == []

    committed(notify, kind="emergency", ticket=ticket, recipients=[readers["en"]],
              context={"reason": "支付全部失败"}, dedupe_key="emergency:1")
    assert [r.path for r in receiver.requests] == ["/breaches"]


def test_a_user_whose_channels_are_all_disabled_is_mailed(
    smtp_server: Mailbox, receiver: Receiver, readers: dict[str, User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    add_channel(owner=readers["en"], kind="webhook", target=receiver.url + "/off", enabled=False)
    committed(escalate, ticket=ticket, recipients=[readers["en"]])
    assert receiver.requests == []
    assert [m["To"] for m in smtp_server.messages] == ["alice@example.com"]


def test_a_team_is_reached_through_its_group_robot_in_its_language(
    smtp_server: Mailbox, robots_at: Receiver, readers: dict[str, User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    team = create_team(name="支付运维组", members=[readers["zh"], readers["en"]], language="en")
    add_channel(owner=team, kind="dingtalk", target="dingtalk://0123456789abcdef0123/")
    committed(escalate, ticket=ticket, recipients=[team])

    [request] = robots_at.requests
    assert f"[{ticket.key}] Escalated: 支付回调超时" in request.body["text"]["content"]
    assert smtp_server.messages == []  # the group chat reaches the members
    delivery = Delivery.objects.get()
    assert (delivery.team, delivery.recipient) == (team, None)
    assert delivery.recipient_name == "支付运维组"


def test_a_team_without_channels_is_reached_through_each_member_once(
    smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket, committed: Callable[..., Any]
) -> None:
    team = create_team(name="值班组", members=[readers["zh"], readers["en"]])
    committed(escalate, ticket=ticket, recipients=[team, readers["en"]])
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "alice@example.com", "wanglei@example.com"
    ]


def test_robot_page_urls_are_stored_in_apprise_form(readers: dict[str, User]) -> None:
    dingtalk = add_channel(
        owner=readers["zh"], kind="dingtalk",
        target="https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123",
    )
    feishu = add_channel(
        owner=readers["zh"], kind="feishu",
        target="https://open.feishu.cn/open-apis/bot/v2/hook/f00dcafe-1234-5678",
    )
    wecom = add_channel(
        owner=readers["zh"], kind="wecom",
        target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ab12cd34-5678",
    )
    assert dingtalk.target == "dingtalk://0123456789abcdef0123/"
    assert feishu.target == "feishu://f00dcafe-1234-5678"
    assert wecom.target == "wecombot://ab12cd34-5678"


@pytest.mark.parametrize(("kind", "target"), [
    ("email", "not an address"),
    ("dingtalk", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"),
    ("wecom", "https://example.com/secret-hook-0123"),
    ("webhook", "ftp://files.example.com/secret-hook-0123"),
])
def test_an_unusable_target_is_refused_without_repeating_it(
    readers: dict[str, User], kind: str, target: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        add_channel(owner=readers["zh"], kind=kind, target=target)
    assert "target" in refused.value.message_dict
    if kind != "email":
        assert "secret-hook" not in str(refused.value)
        assert "TIiajkdnlazk" not in str(refused.value)


def test_a_robot_url_is_masked_when_shown(readers: dict[str, User]) -> None:
    robot = add_channel(owner=readers["zh"], kind="dingtalk",
                        target="dingtalk://SEC0a1b2c3d@0123456789abcdef0123/")
    hook = add_channel(owner=readers["zh"], kind="webhook",
                       target="https://hooks.example.com/opsdesk/0123456789abcdef")
    mail = add_channel(owner=readers["zh"], kind="email", target="wl@example.com")
    assert robot.masked_target == "dingtalk://****0123"
    assert hook.masked_target == "https://hooks.example.com/****"
    for channel in (robot, hook):
        assert "0123456789abcdef" not in str(channel)
        assert "SEC0a1b2c3d" not in str(channel)
    assert "wl@example.com" in str(mail)
