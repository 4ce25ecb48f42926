"""Delivering mail the way a mail server does: ``opsdesk mailgate`` with the message on its
standard input (in this process, so the test's database sees the result)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from opsdesk.intake.models import InboundMessage

Deliver = Callable[[bytes], InboundMessage]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages recorded in English (the site language is zh-Hans; one test checks it)."""
    with translation.override("en"):
        yield


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
