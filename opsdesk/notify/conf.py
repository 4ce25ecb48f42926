"""The notify app's settings (read from OPSDESK_* variables in opsdesk/settings.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def base_url() -> str:
    """Where people open opsdesk: the start of every link in a message."""
    return str(settings.OPSDESK_BASE_URL).rstrip("/")


def max_attempts() -> int:
    """Attempts per delivery before it is abandoned."""
    return int(settings.OPSDESK_NOTIFY_MAX_ATTEMPTS)


def retry_base() -> timedelta:
    """The first retry's delay; each later one doubles it (1, 2, 4, 8 … minutes)."""
    return timedelta(seconds=int(settings.OPSDESK_NOTIFY_RETRY_SECONDS))


def retry_cap() -> timedelta:
    return timedelta(seconds=int(settings.OPSDESK_NOTIFY_RETRY_CAP_SECONDS))


def timeout_seconds() -> float:
    """How long one SMTP or HTTP exchange may take: a hung server must not hold the worker."""
    return float(settings.OPSDESK_NOTIFY_TIMEOUT_SECONDS)
