"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from opsdesk.accounts.models import ApiToken, Module, User, hash_token


def user_for_token(raw: str) -> User | None:
    """The active user a raw API token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Recording use at most once a minute keeps token auth a read on the hot path.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def get_user_by_ref(ref: str | int) -> User | None:
    """A user by id or username."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return User.objects.filter(pk=int(ref)).first()
    return User.objects.filter(username=ref).first()


def get_module_by_ref(ref: str | int) -> Module | None:
    """A module by id, code or name."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return Module.objects.filter(pk=int(ref)).first()
    return Module.objects.filter(code=ref).first() or Module.objects.filter(name=ref).first()


def list_modules() -> QuerySet[Module]:
    return Module.objects.select_related("owner").order_by("code")
