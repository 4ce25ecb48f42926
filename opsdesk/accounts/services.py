"""Writes for accounts: API tokens, role grants, preferences, and sign-in links."""

from __future__ import annotations

import secrets
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts import sign_in_links, throttle
from opsdesk.accounts.models import ApiToken, User, hash_token
from opsdesk.accounts.tasks import mail_sign_in_link


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


def set_preferences(*, user: User, language: str | None = None,
                    time_zone: str | None = None) -> None:
    """Remember ``user``'s language ("" follows the browser) and time zone."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %s.") % language)
    if time_zone is not None and time_zone not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %s.") % time_zone)
    changed = []
    if language is not None:
        user.language = language
        changed.append("language")
    if time_zone is not None:
        user.time_zone = time_zone
        changed.append("time_zone")
    if changed:
        user.save(update_fields=changed)


def request_sign_in_link(*, login: str, requested_from: str | None, language: str) -> None:
    """Have a one-time sign-in link mailed to the account ``login`` names, if there is one.
    The mail is sent in the background: the answer is the same either way."""
    mail_sign_in_link.enqueue(login[:254], requested_from or "", language)


def redeem_sign_in_link(*, token: str) -> User | None:
    """Use a mailed sign-in link: the person it signs in, or None if it is not valid (forged,
    expired, used). The caller signs them in; the throttle is not asked."""
    return sign_in_links.redeem(token)


def unlock_sign_in(*, username: str = "", address: str = "") -> int:
    """Lift the sign-in throttle's lock on an account (from every address), an address (for
    every account) or one pair; returns how many records of failures were removed."""
    return throttle.unlock(username=username, address=address)
