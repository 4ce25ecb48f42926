"""Polling an IMAP mailbox (``opsdesk fetchmail``, and the worker every few seconds).

Each message is stored and used (committed) before it is marked on the server (moved to the
processed folder, or flagged \\Seen): a crash in between leaves it unmarked, the next poll
fetches it again, and its Message-ID makes that a duplicate, not a second ticket.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from imap_tools import AND, MailMessageFlags
from imap_tools.mailbox import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.message import MailMessage

from opsdesk.intake.mail import services as mail
from opsdesk.intake.models import InboundStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    processed_folder: str = ""
    security: str = "ssl"  # "ssl", "starttls" or "none"
    timeout: float = 30.0

    def __repr__(self) -> str:  # never the password, in a traceback or a log
        return f"ImapAccount({self.user}@{self.host}:{self.port}/{self.folder})"

    @property
    def source(self) -> str:
        return f"imap:{self.host}/{self.folder}"


def configured_account() -> ImapAccount | None:
    """The account from the OPSDESK_IMAP_* settings, or None when no host is set."""
    if not settings.OPSDESK_IMAP_HOST:
        return None
    return ImapAccount(
        host=settings.OPSDESK_IMAP_HOST, port=settings.OPSDESK_IMAP_PORT,
        user=settings.OPSDESK_IMAP_USER, password=settings.OPSDESK_IMAP_PASSWORD,
        folder=settings.OPSDESK_IMAP_FOLDER,
        processed_folder=settings.OPSDESK_IMAP_PROCESSED_FOLDER,
        security=settings.OPSDESK_IMAP_SECURITY, timeout=settings.OPSDESK_IMAP_TIMEOUT,
    )


class RawMailMessage(MailMessage):
    """imap-tools' message, keeping the exact bytes the server sent."""

    def __init__(self, fetch_data: list) -> None:  # type: ignore[type-arg]
        self.raw = self._get_message_data_parts(fetch_data)[0]
        super().__init__(fetch_data)


def _connect(account: ImapAccount) -> BaseMailBox:
    box: BaseMailBox
    if account.security == "ssl":
        box = MailBox(account.host, account.port, timeout=account.timeout)
    elif account.security == "starttls":
        box = MailBoxStartTls(account.host, account.port, timeout=account.timeout)
    else:
        box = MailBoxUnencrypted(account.host, account.port, timeout=account.timeout)
    box.email_message_class = RawMailMessage
    return box


def mark_done(box: BaseMailBox, uid: str, account: ImapAccount) -> None:
    """Take the message out of the next poll: move it away, or flag it seen."""
    if account.processed_folder:
        box.move(uid, account.processed_folder)
    else:
        box.flag(uid, MailMessageFlags.SEEN, True)


def fetch_mail(account: ImapAccount | None = None) -> Counter[str]:
    """Fetch every waiting message of the account's folder; how many ended in each status."""
    account = account or configured_account()
    counts: Counter[str] = Counter()
    if account is None:
        return counts
    try:
        with _connect(account).login(account.user, account.password,
                                     initial_folder=account.folder) as box:
            if account.processed_folder and not box.folder.exists(account.processed_folder):
                box.folder.create(account.processed_folder)
            waiting = AND(all=True) if account.processed_folder else AND(seen=False)
            for uid in box.uids(waiting):
                counts[_take(box, uid, account)] += 1
    except Exception as error:
        reason = str(error).replace(account.password, "***") if account.password else str(error)
        log.error("fetchmail %r failed: %s: %s", account, type(error).__name__, reason)
        raise
    if counts:
        log.info("fetchmail %r: %s", account, dict(counts))
    return counts


def _take(box: BaseMailBox, uid: str, account: ImapAccount) -> str:
    message = next(box.fetch(uid_list=[uid], mark_seen=False), None)
    if not isinstance(message, RawMailMessage):
        return "vanished"  # expunged by another client since the search
    if message.size > settings.OPSDESK_MAIL_MAX_BYTES:
        status = mail.quarantine_oversized(size=message.size, source=f"{account.source} UID {uid}",
                                           head=message.raw[:65536]).status
    else:
        status = mail.receive(raw=message.raw, source=account.source).status
    mark_done(box, uid, account)
    return status if status != InboundStatus.RECEIVED else "received"
