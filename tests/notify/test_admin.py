"""The admin shows robot URLs masked, keeps them when a form is saved empty, and leaves the
delivery record read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from opsdesk.accounts.models import User
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.services import add_channel, notify
from opsdesk.tickets.models import Ticket
from tests.notify.conftest import Mailbox

TOKEN = "0123456789abcdef0123"


def test_channel_list_and_form_never_show_the_robot_url(
    admin_client: Client, readers: dict[str, User]
) -> None:
    channel = add_channel(owner=readers["zh"], kind="dingtalk", target=f"dingtalk://{TOKEN}/")
    listing = admin_client.get("/admin/notify/channel/")
    form = admin_client.get(f"/admin/notify/channel/{channel.pk}/change/")
    assert listing.status_code == form.status_code == 200
    assert "dingtalk://****0123" in listing.content.decode()
    for page in (listing, form):
        assert TOKEN not in page.content.decode()


def test_saving_the_form_empty_keeps_the_url(
    admin_client: Client, readers: dict[str, User]
) -> None:
    channel = add_channel(owner=readers["zh"], kind="dingtalk", target=f"dingtalk://{TOKEN}/")
    response = admin_client.post(f"/admin/notify/channel/{channel.pk}/change/", {
        "user": readers["zh"].pk, "kind": "dingtalk", "target": "", "enabled": "on",
        "kinds": ["sla_breach"],
    })
    assert response.status_code == 302, response.content.decode()
    channel.refresh_from_db()
    assert channel.target == f"dingtalk://{TOKEN}/"
    assert channel.kinds == ["sla_breach"]


def test_deliveries_are_read_only_and_can_be_retried(
    admin_client: Client, smtp_server: Mailbox, readers: dict[str, User], ticket: Ticket,
    committed: Callable[..., Any],
) -> None:
    committed(notify, kind="assigned", ticket=ticket, recipients=[readers["en"]],
              dedupe_key="assigned:1")
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.ABANDONED)

    assert admin_client.get("/admin/notify/delivery/").status_code == 200
    page = admin_client.get(f"/admin/notify/delivery/{delivery.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()

    response = committed(
        admin_client.post, path="/admin/notify/delivery/",
        data={"action": "retry_now", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 2
