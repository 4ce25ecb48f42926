"""Browsers' view of opsdesk without a browser: pages read as text (``browser_as``, a client
signed in as a person, is in tests/conftest.py)."""

from __future__ import annotations


def text(response) -> str:
    return response.content.decode()
