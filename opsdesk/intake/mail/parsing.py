"""One raw message read into what intake needs: who sent it, its subject and text, its
attachments, what it answers, and whether a machine sent it (an auto-reply or a bounce)."""

from __future__ import annotations

import email.message
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_tz

from opsdesk.bounds import CLOCK_LEEWAY, check_moment
from opsdesk.intake.mail.charsets import decode_bytes, decode_header
from opsdesk.intake.mail.html_text import html_to_text

# Control characters (NUL above all, which PostgreSQL cannot store in text) are never text a
# sender meant; tabs and line breaks are.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A Message-ID is printable ASCII: 8-bit bytes or control characters in one are noise (and
# cannot be stored as text), not part of an identity to thread by.
MESSAGE_ID = re.compile(r"<[!-;=?-~]+>")
CONTENT_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]{1,127}/[a-z0-9!#$&^_.+-]{1,127}")
PRECEDENCE_IGNORED = frozenset({"bulk", "junk", "list"})
# A part delimiter (RFC 2046: "--", the boundary, then the part's headers), found in the body of
# a multipart whose declared boundary is missing or wrong.
DELIMITER = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-][0-9A-Za-z'()+_,./:=? -]{0,69})\r?\n"
                       rb"(?=content-)", re.MULTILINE | re.IGNORECASE)
SAFE_CHARSET = re.compile(r"[a-z0-9._:+-]{1,40}")
# A Date outside the moments opsdesk takes (opsdesk.bounds), or more than a day after the mail
# arrived, is a broken clock (or a forgery), not when it was sent; a four-digit year is read
# as written (Python's reader turns "0001" into 2001).
WRITTEN_YEAR = re.compile(r"(?<![\d+:-])\d{4}(?![\d:])")


@dataclass(frozen=True)
class MailAttachment:
    name: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    identity: str  # the Message-ID, or a digest of the bytes for a message without one
    message_id: str
    subject: str
    sender_name: str
    sender_email: str
    references: list[str]  # In-Reply-To first, then References, newest first
    text: str
    attachments: list[MailAttachment] = field(default_factory=list)
    automatic: str = ""  # why a machine sent it ("auto_reply", "bounce", "bulk"), or ""
    date_header: str = ""  # the Date header as written
    sent_at: datetime | None = None  # what the Date header says, when it is a usable time

    def sent_time(self, *, arrived: datetime) -> datetime:
        """When the mail was sent: its Date, unless that is more than a day after it arrived;
        otherwise (no usable Date) when it arrived."""
        if self.sent_at is None or self.sent_at > arrived + CLOCK_LEEWAY:
            return arrived
        return self.sent_at


def storable_text(text: str) -> str:
    """``text`` as a database can store it: without control characters, and with any lone
    surrogate (an undecoded byte, from an exotic charset) as a visible escape."""
    return CONTROL.sub("", text).encode("utf-8", "backslashreplace").decode("utf-8")


def _headers(part: email.message.Message) -> dict[str, str]:
    """The part's raw header values by lower-case name (the first of each)."""
    raw: dict[str, str] = {}
    for name, value in part.raw_items():
        raw.setdefault(name.lower(), str(value))
    return raw


def _param(raw_value: str, name: str) -> str:
    """A MIME parameter (``filename``, ``name``), decoded from RFC 2231 (with its charset) or,
    as Outlook and Foxmail write it, from RFC 2047 encoded-words inside the quotes."""
    holder = email.message.Message()  # the classic API: raw values, RFC 2231 tuples
    holder["X"] = raw_value
    value = holder.get_param(name, header="x")
    if value is None:
        return ""
    if isinstance(value, tuple):
        charset, _language, text = value
        return decode_bytes(text.encode("raw-unicode-escape"), charset or None)
    return decode_header(email.utils.unquote(value))


def _file_name(headers: dict[str, str]) -> str:
    name = (_param(headers.get("content-disposition", ""), "filename")
            or _param(headers.get("content-type", ""), "name"))
    return storable_text(name)


def _leaves(part: Message) -> list[Message]:
    """The message's parts that hold content; an attached message is one part, not opened."""
    if part.get_content_maintype() != "multipart":
        return [part]
    if not part.is_multipart():
        return _unsplit(part)
    return [leaf for sub in part.get_payload() if isinstance(sub, Message)
            for leaf in _leaves(sub)]


def _unsplit(part: Message) -> list[Message]:
    """The parts of a multipart the parser could not split (no boundary parameter, or one its
    body never uses): split again at the delimiter the body does use; else the body is one
    part of plain text, its charset found as for any unlabelled text."""
    payload = part.get_payload(decode=True)
    body = payload if isinstance(payload, bytes) else b""
    reader = BytesParser(policy=policy.compat32)
    found = DELIMITER.search(body)
    if found:
        boundary = found.group(1).rstrip()
        split = reader.parsebytes(b'Content-Type: multipart/mixed; boundary="' + boundary
                                  + b'"\r\n\r\n' + body)
        if split.is_multipart():
            return _leaves(split)
    charset = part.get_content_charset() or ""
    label = f'; charset="{charset}"' if SAFE_CHARSET.fullmatch(charset) else ""
    return [reader.parsebytes(f"Content-Type: text/plain{label}\r\n\r\n".encode() + body)]


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    text = decode_bytes(data, part.get_content_charset())
    return storable_text(text.replace("\r\n", "\n").replace("\r", "\n"))


class _AsReceived(BytesGenerator):
    """Writes a message back as bytes; a multipart the parser could not split is written as its
    body came (the standard library writes it as text decoded for display, and raises on its
    8-bit bytes)."""

    def _handle_multipart(self, msg: Message) -> None:
        if msg.is_multipart():
            super()._handle_multipart(msg)  # type: ignore[misc]
        else:
            self._write_lines(msg._payload or "")  # type: ignore[attr-defined]


def _message_bytes(message: Message) -> bytes:
    out = io.BytesIO()
    _AsReceived(out, mangle_from_=False, policy=policy.compat32).flatten(message)
    return out.getvalue()


def _attachment(part: Message, headers: dict[str, str], index: int) -> MailAttachment:
    content_type = part.get_content_type()
    if not CONTENT_TYPE.fullmatch(content_type):
        content_type = "application/octet-stream"
    if content_type == "message/rfc822":
        inner = part.get_payload(0)
        content, subject = b"", ""
        if isinstance(inner, email.message.Message):
            content = _message_bytes(inner)
            subject = storable_text(decode_header(_headers(inner).get("subject", "")))
        name = _file_name(headers) or f"{subject or 'message'}.eml"
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        name = _file_name(headers) or f"attachment-{index}"
    return MailAttachment(name=name, content_type=content_type, content=content)


def _body_and_attachments(message: Message) -> tuple[str, list[MailAttachment]]:
    """The text (the plain parts, else the HTML parts as text) and every other part as a file.
    Apple Mail splits a body around inline files into several plain parts: they are joined."""
    plain: list[str] = []
    html: list[str] = []
    attachments = []
    for index, part in enumerate(_leaves(message), start=1):
        headers = _headers(part)
        content_type = part.get_content_type()
        is_file = part.get_content_disposition() == "attachment" or bool(_file_name(headers))
        if not is_file and content_type == "text/plain":
            plain.append(_text_of(part))
        elif not is_file and content_type == "text/html":
            html.append(_text_of(part))
        else:
            attachments.append(_attachment(part, headers, index))
    text = "\n".join(plain).strip()
    if not text and html:
        text = "\n\n".join(html_to_text(page) for page in html).strip()
    return text, attachments


def _automatic(message: Message, headers: dict[str, str]) -> str:
    """Why a machine sent this mail (RFC 3834 and what autoresponders write), or ""."""
    if message.get_content_type() == "multipart/report" or headers.get(
            "content-type", "").lower().startswith("multipart/report"):
        return "bounce"
    if headers.get("return-path", "x").strip() in ("<>", ""):
        return "bounce"
    if headers.get("auto-submitted", "no").strip().lower().split(";")[0] != "no":
        return "auto_reply"
    if "x-autoreply" in headers or "x-autorespond" in headers or "x-autoreply-from" in headers:
        return "auto_reply"
    if headers.get("precedence", "").strip().lower() in PRECEDENCE_IGNORED:
        return "bulk"
    return ""


def _message_ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value)


def _sent_at(value: str) -> datetime | None:
    """The time a Date header gives (in UTC), or None when it gives none that is usable:
    unreadable, or outside the moments opsdesk takes."""
    try:
        fields = parsedate_tz(value)
        if fields is None:
            return None
        written = WRITTEN_YEAR.findall(value)
        if written and str(fields[0]) not in written:
            return None
        zone = timezone(timedelta(seconds=fields[9] or 0))
        sent = datetime(*fields[:6], tzinfo=zone).astimezone(UTC)  # type: ignore[misc]
        return check_moment(sent)
    except (ValueError, OverflowError, TypeError, IndexError):  # MomentOutOfRange included
        return None


def parse(raw: bytes) -> ParsedMail:
    """Read ``raw`` (RFC 5322 bytes). A malformed message is read as far as it can be (what
    cannot be read is empty); only one the standard library's parser gives up on raises
    (multiparts nested past Python's recursion limit), and intake quarantines it."""
    # The classic API (compat32): header values stay as the raw strings that decode_header
    # reads with its charset rules, and are not parsed again on every access (the default
    # policy's header objects were two thirds of the time spent here).
    message = BytesParser(policy=policy.compat32).parsebytes(raw)
    headers = _headers(message)
    message_id = next(iter(_message_ids(headers.get("message-id", ""))), "")
    name, address = "", ""
    addresses = getaddresses([re.sub(r"\r?\n[ \t]", " ", headers.get("from", ""))])
    if addresses:
        name, address = addresses[0]
    if not address:
        name, address = parseaddr(headers.get("from", ""))
    text, attachments = _body_and_attachments(message)
    references = (list(reversed(_message_ids(headers.get("in-reply-to", ""))))
                  + list(reversed(_message_ids(headers.get("references", "")))))
    date_header = storable_text(decode_header(headers.get("date", "")))
    return ParsedMail(
        identity=message_id[:255] or "sha256:" + hashlib.sha256(raw).hexdigest(),
        message_id=message_id,
        subject=storable_text(decode_header(headers.get("subject", ""))),
        sender_name=storable_text(decode_header(name)),
        sender_email=storable_text(decode_header(address)).strip().lower(),
        references=references,
        text=text,
        attachments=attachments,
        automatic=_automatic(message, headers),
        date_header=date_header,
        sent_at=_sent_at(date_header),
    )
