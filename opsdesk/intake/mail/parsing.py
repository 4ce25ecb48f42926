"""One raw message read into what intake needs: who sent it, its subject and text, its
attachments, what it answers, and whether a machine sent it (an auto-reply or a bounce)."""

from __future__ import annotations

import email.message
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from opsdesk.intake.mail.charsets import decode_bytes, decode_header
from opsdesk.intake.mail.html_text import html_to_text

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Control characters (NUL above all, which PostgreSQL cannot store in text) are never text a
# sender meant; tabs and line breaks are.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PRECEDENCE_IGNORED = frozenset({"bulk", "junk", "list"})


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
    return (_param(headers.get("content-disposition", ""), "filename")
            or _param(headers.get("content-type", ""), "name"))


def _leaves(part: Message) -> list[Message]:
    """The message's parts that hold content; an attached message is one part, not opened."""
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart" and isinstance(payload, list):
        return [leaf for sub in payload if isinstance(sub, Message) for leaf in _leaves(sub)]
    return [part]


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    text = decode_bytes(data, part.get_content_charset())
    return CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _attachment(part: Message, headers: dict[str, str], index: int) -> MailAttachment:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload(0)
        content, subject = b"", ""
        if isinstance(inner, email.message.Message):
            content = inner.as_bytes()
            subject = decode_header(_headers(inner).get("subject", ""))
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


def parse(raw: bytes) -> ParsedMail:
    """Read ``raw`` (RFC 5322 bytes). Never raises for a malformed message: what cannot be
    read is empty."""
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
    return ParsedMail(
        identity=message_id[:255] or "sha256:" + hashlib.sha256(raw).hexdigest(),
        message_id=message_id,
        subject=CONTROL.sub("", decode_header(headers.get("subject", ""))),
        sender_name=CONTROL.sub("", decode_header(name)),
        sender_email=decode_header(address).strip().lower(),
        references=references,
        text=text,
        attachments=attachments,
        automatic=_automatic(message, headers),
    )
