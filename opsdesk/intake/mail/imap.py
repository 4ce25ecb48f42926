"""Polling an IMAP mailbox (``opsdesk fetchmail``, and the worker every few seconds).

Each message is stored and used (committed) before it is marked on the server (moved to the
processed folder, or flagged \\Seen): a crash in between leaves it unmarked, the next poll
fetches it again, and its Message-ID makes that a duplicate, not a second ticket. Messages are
fetched as bytes and never parsed here: a message intake cannot read is quarantined, marked
like any other, and the poll goes on.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from imap_tools import AND, MailMessageFlags
from imap_tools.mailbox import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted

from opsdesk.intake.mail import services as mail
from opsdesk.intake.models import InboundStatus

log = logging.getLogger(__name__)

UID = re.compile(r"\bUID (\d+)")
RFC822_SIZE = re.compile(r"\bRFC822\.SIZE (\d+)")


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


def _connect(account: ImapAccount) -> BaseMailBox:
    box: BaseMailBox
    if account.security == "ssl":
        box = MailBox(account.host, account.port, timeout=account.timeout)
    elif account.security == "starttls":
        box = MailBoxStartTls(account.host, account.port, timeout=account.timeout)
    else:
        box = MailBoxUnencrypted(account.host, account.port, timeout=account.timeout)
    return box


def mark_done(box: BaseMailBox, uid: str, account: ImapAccount) -> None:
    """Take the message out of the next poll: move it away, or flag it seen."""
    if account.processed_folder:
        box.move(uid, account.processed_folder)
    else:
        box.flag(uid, MailMessageFlags.SEEN, True)


def fetch_mail(account: ImapAccount | None = None) -> Counter[str]:
    """Fetch every waiting message of the account's folder; how many ended in each status.
    Each message is taken on its own: one the server will not hand over is left for the next
    poll and the rest go on; only a lost connection or database ends the poll."""
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


class Unreadable(Exception):
    """The server answered a FETCH of one message with NO (a damaged message in its store)."""


def _fetch(box: BaseMailBox, uid: str, item: str) -> list[bytes | tuple[bytes, bytes]]:
    """The server's FETCH responses for ``item`` of one message (a tuple for a response with
    a literal: its line and its bytes)."""
    typ, data = box.client.uid("FETCH", uid, f"({item})")
    if typ != "OK":
        raise Unreadable(" ".join(_line(response) for response in data if response))
    return [response for response in data if response]


def _line(response: bytes | tuple[bytes, bytes]) -> str:
    """The text of a FETCH response (the line before its literal, for one with data)."""
    return (response[0] if isinstance(response, tuple) else response).decode("ascii", "replace")


def _size(box: BaseMailBox, uid: str) -> int | None:
    """The message's size as the server counts it (RFC822.SIZE), without downloading it;
    None when it is gone (expunged by another client since the search)."""
    for response in _fetch(box, uid, "RFC822.SIZE"):
        line = _line(response)
        found_uid, size = UID.search(line), RFC822_SIZE.search(line)
        if found_uid and size and found_uid.group(1) == uid:
            return int(size.group(1))
    return None


def _content(box: BaseMailBox, uid: str, section: str) -> bytes | None:
    """The bytes of ``section`` (BODY.PEEK: reading does not flag the message seen). Only
    the answer to this command carries a literal; unsolicited FETCH responses (another
    client's flag changes) do not."""
    for response in _fetch(box, uid, f"BODY.PEEK[]{section}"):
        if isinstance(response, tuple) and "BODY[" in _line(response):
            return bytes(response[1])
    return None


def _take(box: BaseMailBox, uid: str, account: ImapAccount) -> str:
    """Store and use one message, then mark it; what became of it. One the server will not
    hand over is left unmarked: the next poll asks again, and the messages behind it go on."""
    try:
        status = _store(box, uid, account)
    except Unreadable as refusal:
        log.error("fetchmail %r: the server would not hand over UID %s: %s", account, uid,
                  refusal)
        return "unreadable"
    if status is None:
        return "vanished"
    mark_done(box, uid, account)
    return status if status != InboundStatus.RECEIVED else "received"


def _store(box: BaseMailBox, uid: str, account: ImapAccount) -> str | None:
    """Store one message (only its head when it is over the limit); its status, or None when
    it is gone. Its size comes from the server and its bytes are stored as they came: nothing
    here parses the message, so no content can stop the poll (mail intake quarantines what it
    cannot read, with the reason)."""
    limit = settings.OPSDESK_MAIL_MAX_BYTES
    size = _size(box, uid)
    if size is None:
        return None
    if size <= limit:
        raw = _content(box, uid, "")
        if raw is None:
            return None
        if len(raw) <= limit:
            return mail.receive(raw=raw, source=account.source).status
        size, head = len(raw), raw[:mail.HEAD_BYTES]  # the server counted it otherwise
    else:
        head = _content(box, uid, f"<0.{mail.HEAD_BYTES}>") or b""
    return mail.quarantine_oversized(size=size, source=f"{account.source} UID {uid}",
                                     head=head).status
