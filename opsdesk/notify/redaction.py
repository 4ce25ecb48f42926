"""Keeping robot URLs secret: a robot's URL is its password (whoever has it can post to the
group), so it is masked wherever it is shown and scrubbed from logs and error texts.

Apprise logs the full robot URL at debug level and urllib3 logs the request path, both from
worker threads; a filter on those loggers, present while a delivery is sent, rewrites their
records before any handler sees them.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "****"
# Schemes whose host is a server name; for the robot schemes (dingtalk://TOKEN) it is a token.
WEB_SCHEMES = frozenset({"http", "https", "json", "jsons", "form", "forms", "xml", "xmls"})
# Shorter pieces ("send", "hook") are words, not secrets; masking them would garble messages.
MIN_SECRET_LENGTH = 6
LOGGERS_THAT_SEE_URLS = (
    "apprise",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.util.retry",
    "requests",
)


def mask(target: str) -> str:
    """A recognisable but useless form of a robot URL: its scheme and server, or its last
    four characters when the token is all there is."""
    parts = urlsplit(target)
    if parts.scheme in WEB_SCHEMES and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}/{MASK}"
    tail = target.rstrip("/")[-4:]
    return f"{parts.scheme}://{MASK}{tail}" if parts.scheme else f"{MASK}{tail}"


def secret_fragments(target: str) -> list[str]:
    """Every piece of ``target`` that could let someone post to the robot, longest first."""
    parts = urlsplit(target)
    userinfo, _, host = parts.netloc.rpartition("@")
    pieces = [target, unquote(target), *userinfo.split(":"), parts.fragment]
    pieces += parts.path.split("/")
    pieces += [value for _name, value in parse_qsl(parts.query, keep_blank_values=True)]
    if parts.scheme not in WEB_SCHEMES:
        pieces += [host, host.split(":")[0]]
    variants = {v for p in pieces for v in (p, p.lower(), quote(p, safe=""))}
    return sorted((p for p in variants if len(p) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, fragments: Sequence[str]) -> str:
    for fragment in fragments:
        text = text.replace(fragment, MASK)
    return text


class _RedactingFilter(logging.Filter):
    def __init__(self, fragments: Sequence[str]) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # A traceback's exception text may carry the URL: fold it in, scrubbed.
            message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message, self.fragments)
        record.args = None
        return True


@contextmanager
def scrubbed_logs(fragments: Sequence[str]) -> Iterator[None]:
    """While the block runs, scrub ``fragments`` from what the HTTP libraries log."""
    if not fragments:
        yield
        return
    scrubber = _RedactingFilter(fragments)
    loggers = [logging.getLogger(name) for name in LOGGERS_THAT_SEE_URLS]
    for logger in loggers:
        logger.addFilter(scrubber)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(scrubber)
