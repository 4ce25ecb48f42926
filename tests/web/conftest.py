"""Browsers' view of opsdesk without a browser: Django's test client signed in as a person."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from opsdesk.accounts.models import User


@pytest.fixture
def browser_as(db: None) -> Callable[..., Client]:
    """A client signed in as ``user``, speaking ``language`` (zh-Hans unless told)."""

    def sign_in(user: User, language: str = "zh-hans") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return sign_in


def text(response) -> str:
    return response.content.decode()
