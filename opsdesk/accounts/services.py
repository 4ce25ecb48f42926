"""Writes for accounts: API tokens and role grants."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import ApiToken, User, hash_token


def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the record and the raw token (shown only once)."""
    raw = "ops_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=hash_token(raw))
    return token, raw


def revoke_api_token(*, token: ApiToken) -> None:
    """Revoke a token; requests with it are refused from now on."""
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


@transaction.atomic
def grant_roles(*, user: User, roles: Iterable[str]) -> None:
    """Give ``user`` the named roles (group membership)."""
    user.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in roles))
    user.__dict__.pop("roles", None)
