"""One-click answers to a fix sent for verification: "confirmed" and "not fixed", mailed to
the submitter as signed links that need no password.

A link names a VerificationLink row (one per time the fix is sent for verification) and the
answer, signed with the site's secret key. It works until ``LIFETIME`` after the fix was
sent, once (answering uses both links of the row), and only while the ticket still waits for
that verification. Opening a link changes nothing (mail scanners open links too): the page it
shows asks to confirm, or asks why it is not fixed, and only that page's POST answers.

The message stored for a delivery holds marks where the links go (messages.CONFIRM_MARK);
they are signed when the delivery is sent, so no usable link is ever stored, shown in the
admin or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.notify import conf
from opsdesk.notify.messages import CONFIRM_MARK, NOT_FIXED_MARK
from opsdesk.notify.models import Delivery, VerificationLink
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import InvalidField, TransitionRefused
from opsdesk.tickets.models import Ticket

LIFETIME = timedelta(days=30)
_SALT = "opsdesk.notify.verification"
CONFIRM, NOT_FIXED = "confirm", "not_fixed"
ACTIONS = {CONFIRM: "confirm", NOT_FIXED: "reject_fix"}


def invite(*, ticket: Ticket, recipient: User | None, address: str = "") -> VerificationLink:
    """The links for the fix ``ticket`` was just sent for verification with (its version now
    names that round; asking again in the same round gives the same row)."""
    link, _new = VerificationLink.objects.get_or_create(
        ticket=ticket, round=ticket.version,
        defaults={"recipient": recipient, "address": address[:254]})
    return link


def open_link(ticket: Ticket) -> VerificationLink | None:
    """The unused links of the fix ``ticket`` waits to have verified, if any (a reminder sends
    them again)."""
    link = _latest(ticket.pk)
    if link is None or link.used_at is not None or ticket.status != Status.AWAITING_VERIFICATION:
        return None
    return link


def expires_at(link: VerificationLink) -> datetime:
    return link.created_at + LIFETIME


def url(link: VerificationLink, answer: str) -> str:
    token = signing.dumps({"link": link.pk, "answer": answer}, salt=_SALT, compress=True)
    return conf.base_url() + reverse("web:verify", kwargs={"token": token})


def fill(delivery: Delivery, text: str) -> str:
    """``text`` of ``delivery`` with its link marks replaced by the signed links."""
    link = delivery.verification
    if link is None:
        return text
    return (text.replace(CONFIRM_MARK, url(link, CONFIRM))
            .replace(NOT_FIXED_MARK, url(link, NOT_FIXED)))


def without_links(text: str) -> str:
    """``text`` as shown on the ticket's page, where the answers are the page's own actions."""
    on_page = _("(the actions on this page)")
    return text.replace(CONFIRM_MARK, on_page).replace(NOT_FIXED_MARK, on_page)


@dataclass(frozen=True)
class Answer:
    """What a valid link answers: which fix, how, and for whom."""

    link: VerificationLink
    answer: str
    ticket: Ticket

    @property
    def confirms(self) -> bool:
        return self.answer == CONFIRM


def read(token: str) -> Answer | None:
    """What ``token`` answers, if it is genuine, unexpired, unused and its ticket still waits
    for that verification; None otherwise. Changes nothing."""
    try:
        claim = signing.loads(token, salt=_SALT, max_age=LIFETIME)
    except signing.BadSignature:  # expired ones included
        return None
    if (not isinstance(claim, dict) or claim.get("answer") not in ACTIONS
            or not isinstance(claim.get("link"), int)):
        return None
    link = (VerificationLink.objects.select_related("ticket", "recipient")
            .filter(pk=claim["link"]).first())
    if link is None or not _usable(link):
        return None
    return Answer(link, claim["answer"], link.ticket)


def _usable(link: VerificationLink) -> bool:
    latest = _latest(link.ticket_id)
    return (
        link.used_at is None
        and timezone.now() < expires_at(link)
        and link.ticket.status == Status.AWAITING_VERIFICATION
        and latest is not None and latest.pk == link.pk
        and (link.recipient is None or link.recipient.is_active)
    )


def _latest(ticket_id: int) -> VerificationLink | None:
    return VerificationLink.objects.filter(ticket_id=ticket_id).order_by("-round").first()


@transaction.atomic
def answer(*, token: str, reason: str = "") -> Ticket:
    """Answer the verification ``token`` is for, as the submitter (her account, or her name
    when she has none): confirm the fix, or say it is not fixed and why (the reason is
    required). Raises TransitionRefused when the link can
    no longer be used, the workflow's refusal otherwise."""
    found = read(token)
    if found is None:
        raise TransitionRefused(_("This link has expired or has already been used."))
    link = VerificationLink.objects.select_for_update().get(pk=found.link.pk)
    if link.used_at is not None:  # a second click that raced the first
        raise TransitionRefused(_("This link has expired or has already been used."))
    fields = {}
    if not found.confirms:
        if not reason.strip():
            raise InvalidField(_("Tell us what is still wrong."), field="reason")
        fields["reason"] = reason
    ticket = tickets.do_transition(
        ticket_id=found.ticket.pk, action=ACTIONS[found.answer], by=link.recipient,
        version=None, fields=fields, external_submitter=link.recipient is None)
    link.used_at, link.used_for = timezone.now(), found.answer
    link.save(update_fields=["used_at", "used_for"])
    return ticket
