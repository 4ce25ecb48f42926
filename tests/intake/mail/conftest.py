"""Delivering mail the way a mail server does: ``opsdesk mailgate`` with the message on its
standard input (in this process, so the test's database sees the result)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from opsdesk.intake.models import InboundMessage

Deliver = Callable[[bytes], InboundMessage]


@pytest.fixture
def deliver(db: None) -> Deliver:
    def run(raw: bytes) -> InboundMessage:
        out = io.StringIO()
        call_command("mailgate", stdin=io.BytesIO(raw), stdout=out)
        message = InboundMessage.objects.order_by("-pk").first()
        assert message is not None and bytes(message.body) == raw, out.getvalue()
        return message

    return run


@pytest.fixture
def anyone_may_write(settings: Any) -> None:
    settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["*"]
