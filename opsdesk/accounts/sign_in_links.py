"""One-time sign-in links: the way in for someone the sign-in throttle refuses, which nobody
else can block (guessing passwords from another address, or from theirs, does not stop it).

A link is signed with the site's secret key, works for ``LIFETIME`` and only once: it is bound
to the moment of the person's last sign-in, which using it moves. It goes to the address on the
account; asking for one answers the same whether or not the account exists, and mails at most
one link per ``SIGN_IN_LINK_INTERVAL`` to an account.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User

logger = logging.getLogger(__name__)

LIFETIME = timedelta(minutes=15)
SIGN_IN_LINK_INTERVAL = timedelta(minutes=2)
_SALT = "opsdesk.accounts.sign_in_links"


def make_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "state": _state(user)}, salt=_SALT)


def user_for_token(token: str) -> User | None:
    """The active person ``token`` signs in, or None if it is forged, expired or used."""
    try:
        claim = signing.loads(token, salt=_SALT, max_age=LIFETIME)
    except signing.BadSignature:  # expired ones included
        return None
    user = User.objects.filter(pk=claim["user"], is_active=True).first()
    if user is None or not constant_time_compare(claim["state"], _state(user)):
        return None
    return user


@transaction.atomic
def redeem(token: str) -> User | None:
    """Use ``token``: the person it signs in, or None. Its moment passes with the use, so two
    requests racing with the same link cannot both succeed."""
    user = user_for_token(token)
    if user is None:
        return None
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not constant_time_compare(_state(locked), _state(user)):
        return None
    locked.last_login = timezone.now()
    locked.save(update_fields=["last_login"])
    return locked


def _state(user: User) -> str:
    """What using a link, or changing the password or address, changes."""
    moment = user.last_login.isoformat() if user.last_login else ""
    return salted_hmac(_SALT, f"{user.pk}|{user.password}|{user.email}|{moment}",
                       algorithm="sha256").hexdigest()[:32]


def mail_link(*, user: User, requested_from: str, language: str) -> bool:
    """Mail a link to ``user`` if they have an address and had no link in the last interval
    (the language is the asker's, unless the person chose one). Returns whether one went."""
    if not user.email:
        return False
    now = timezone.now()
    claimed = User.objects.filter(pk=user.pk).filter(
        Q(sign_in_link_sent_at__isnull=True)
        | Q(sign_in_link_sent_at__lt=now - SIGN_IN_LINK_INTERVAL)
    ).update(sign_in_link_sent_at=now)
    if not claimed:
        return False
    link = settings.OPSDESK_BASE_URL.rstrip("/") + reverse(
        "web:sign_in_link", kwargs={"token": make_token(user)})
    with translation.override(user.language or language), timezone.override(user.time_zone):
        subject = _("Your opsdesk sign-in link")
        body = _(
            "Someone, we hope you, asked to sign in to opsdesk as %(username)s from "
            "%(address)s at %(time)s.\n\n"
            "This link signs you in once, within %(minutes)d minutes:\n%(link)s\n\n"
            "If it was not you, ignore this mail: nothing changes, and your password stays "
            "as it is. Someone may be trying to guess it; please tell an administrator."
        ) % {"username": user.username, "address": requested_from or "?",
             "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
             "minutes": LIFETIME.seconds // 60, "link": link}
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email],
                 headers={"Auto-Submitted": "auto-generated"}).send()
    logger.info("Sign-in link mailed to user %s.", user.pk)
    return True

