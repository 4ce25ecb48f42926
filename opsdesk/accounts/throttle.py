"""The sign-in throttle: django-axes, counting failed sign-ins per account *and* client address.

Axes records each failure in the database (every server process sees it) and refuses a pair
(account, address) after ``AXES_FAILURE_LIMIT`` failures within ``AXES_COOLOFF_TIME``, so
someone guessing a password from one address cannot lock the account's owner out elsewhere.
This handler adds a ceiling per address (``OPSDESK_SIGN_IN_FAILURES_PER_ADDRESS``) against one
password tried on many accounts. A locked-out person still gets in by a one-time link mailed to
them (``sign_in_links``), or an administrator runs ``opsdesk unlock``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

USERNAME_LENGTH = 150


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in is for, as counted: "Alice" and "alice " are one account."""
    return str((credentials or {}).get("username") or "").strip().lower()[:USERNAME_LENGTH]


class SignInThrottle(AxesDatabaseHandler):
    """Axes' database handler with the per-address ceiling added to its per-pair limit."""

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return (super().is_locked(request, credentials)
                or _address_is_locked(getattr(request, "axes_ip_address", None)))

    def user_login_failed(self, sender: Any, credentials: dict[str, Any],
                          request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out:  # type: ignore[attr-defined]
            return
        address = request.axes_ip_address  # type: ignore[attr-defined]
        if _address_is_locked(address):
            # This failure filled the address's allowance: refuse it as the pair limit does.
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            user_locked_out.send("axes", request=request,
                                 username=username_of(request, credentials), ip_address=address)


@dataclass(frozen=True)
class Lock:
    """Why sign-in is refused and until when."""

    until: datetime
    whole_address: bool  # every account from this address, not just this one


def current_lock(*, username: str, address: str | None) -> Lock | None:
    """The lock on signing in to ``username`` from ``address``, or None when it is open."""
    recent = _recent()
    pair = _reopens(recent.filter(username=username, ip_address=address),
                    settings.AXES_FAILURE_LIMIT)
    whole = _reopens(recent.filter(ip_address=address),
                     settings.OPSDESK_SIGN_IN_FAILURES_PER_ADDRESS) if address else None
    if whole is not None and (pair is None or whole >= pair):
        return Lock(until=whole, whole_address=True)
    return Lock(until=pair, whole_address=False) if pair is not None else None


def unlock(*, username: str = "", address: str = "") -> int:
    """Forget the failed sign-ins of ``username`` (from anywhere), or from ``address`` (for
    any account), or of that pair when both are given. Returns how many records went."""
    if not (username or address):
        raise ValueError("unlock needs a username or an address")
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username_of(None, {"username": username}))
    if address:
        attempts = attempts.filter(ip_address=address)
    deleted, _by_model = attempts.delete()
    return deleted


def _recent() -> QuerySet[AccessAttempt]:
    return AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
    )


def _address_is_locked(address: str | None) -> bool:
    if not address:
        return False
    failures = _recent().filter(ip_address=address).aggregate(
        total=Sum("failures_since_start"))["total"] or 0
    return bool(failures >= settings.OPSDESK_SIGN_IN_FAILURES_PER_ADDRESS)


def _reopens(attempts: QuerySet[AccessAttempt], limit: int) -> datetime | None:
    """When the failures in ``attempts`` fall below ``limit``, or None if they already are.

    Axes keeps one record per (account, address, browser) with the time of its last failure;
    a record stops counting ``AXES_COOLOFF_TIME`` after that, oldest first."""
    records = list(attempts.order_by("attempt_time").values_list(
        "attempt_time", "failures_since_start"))
    remaining = sum(count for _at, count in records)
    if remaining < limit:
        return None
    for at, count in records:
        remaining -= count
        if remaining < limit:
            return at + settings.AXES_COOLOFF_TIME
    return None  # not reached: without any record nothing remains
