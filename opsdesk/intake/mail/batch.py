"""Importing many messages at once (``opsdesk mailgate --batch``): every message of a folder
(one file each, as Maildir and most exports keep them) or of an mbox file, committed a few
dozen at a time, by one process or several.

With several worker processes, the messages of one conversation all go to the same worker, in
their order in the folder: a reply is never used before the message that opened its ticket.
A message over OPSDESK_MAIL_MAX_BYTES is quarantined with its head (never read whole) and the
import goes on.
"""

from __future__ import annotations

import io
import mailbox
import multiprocessing
import queue
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import connections

from opsdesk.intake.mail import services as mail

MESSAGE_ID = re.compile(rb"<[^<>\s]+>")
END = None  # tells a worker there is nothing more (an empty file is a message, b"")


@dataclass(frozen=True)
class Oversized:
    """A message over OPSDESK_MAIL_MAX_BYTES: its size, its first bytes, and where it is."""

    size: int
    head: bytes
    where: str


def messages_in(path: Path) -> Iterator[bytes | Oversized]:
    """The raw messages under ``path``: each regular file of a folder tree in name order
    (Maildir's cur/ and new/ included; hidden files and Maildir's tmp/, where messages are
    still being written, left out), or each message of an mbox file."""
    if path.is_dir():
        files = (p for p in path.rglob("*") if p.is_file()
                 and not any(part.startswith(".") or part == "tmp"
                             for part in p.relative_to(path).parts))
        for file in sorted(files):
            with file.open("rb") as stream:
                yield _read(stream, where=str(file))
        return
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            message = box.get_file(key)  # a window on the mbox file: nothing read yet
            try:
                yield _read(message, where=f"{path} #{number}")
            finally:
                message.close()
    finally:
        box.close()


class _Stream(Protocol):
    """A message's bytes: an open file, or the window on one message of an mbox file."""

    def read(self, size: int | None = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> object: ...
    def tell(self) -> int: ...


def _read(stream: _Stream, *, where: str) -> bytes | Oversized:
    """The message on ``stream``; only its head when it is over the limit (its size is known
    before anything is read)."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > settings.OPSDESK_MAIL_MAX_BYTES:
        return Oversized(size=size, head=stream.read(mail.HEAD_BYTES), where=where)
    return stream.read()


def conversation_of(item: bytes | Oversized) -> bytes:
    """The Message-ID that started the conversation a message belongs to (the first of its
    References, else what it replies to, else its own), or its bytes' checksum."""
    raw = item.head if isinstance(item, Oversized) else item
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    for name in ("References", "In-Reply-To", "Message-ID"):
        found = MESSAGE_ID.findall(str(headers.get(name, "")).encode("utf-8", "surrogateescape"))
        if found:
            return found[0]
    return zlib.crc32(raw).to_bytes(4, "big")


def import_paths(paths: Iterable[str], *, source: str, chunk: int = 50,
                 jobs: int = 1) -> Counter[str]:
    """Receive every message under ``paths``, committing ``chunk`` messages at a time, with
    ``jobs`` worker processes; how many ended in each status."""
    raws = (raw for path in paths for raw in messages_in(Path(path)))
    if jobs <= 1:
        return _receive_all(raws, source=source, chunk=chunk)
    return _receive_in_parallel(raws, source=source, chunk=chunk, jobs=jobs)


def _receive_all(raws: Iterable[bytes | Oversized], *, source: str,
                 chunk: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    pending: list[bytes] = []
    for raw in raws:
        if isinstance(raw, Oversized):
            counts[mail.quarantine_oversized(size=raw.size, head=raw.head,
                                             source=f"{source} {raw.where}").status] += 1
            continue
        pending.append(raw)
        if len(pending) >= chunk:
            counts.update(d.status for d in mail.receive_many(pending, source=source))
            pending = []
    if pending:
        counts.update(d.status for d in mail.receive_many(pending, source=source))
    return counts


def _from_queue(inbox: Any) -> Iterator[bytes | Oversized]:
    while (raw := inbox.get()) is not END:
        yield raw


def _work(inbox: Any, outbox: Any, source: str, chunk: int) -> None:
    counts = _receive_all(_from_queue(inbox), source=source, chunk=chunk)
    connections.close_all()
    outbox.put(dict(counts))


def _receive_in_parallel(raws: Iterable[bytes | Oversized], *, source: str, chunk: int,
                         jobs: int) -> Counter[str]:
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each worker opens its own
    inboxes = [context.Queue(maxsize=chunk * 4) for _ in range(jobs)]
    outbox = context.Queue()
    workers = [context.Process(target=_work, args=(inbox, outbox, source, chunk), daemon=True)
               for inbox in inboxes]
    for worker in workers:
        worker.start()
    try:
        for raw in raws:
            _put(inboxes[zlib.crc32(conversation_of(raw)) % jobs], raw, workers)
        for inbox in inboxes:
            _put(inbox, END, workers)
        counts: Counter[str] = Counter()
        for _ in workers:
            counts.update(_result(outbox, workers))
    finally:
        for worker in workers:
            worker.join(timeout=60)
    return counts


def _check(workers: list[Any]) -> None:
    dead = [w for w in workers if w.exitcode not in (None, 0)]
    if dead:
        raise RuntimeError(f"a mail import worker failed (exit {dead[0].exitcode}); what was "
                           "committed is kept: run the import again to finish it")


def _put(inbox: Any, raw: bytes | Oversized | None, workers: list[Any]) -> None:
    while True:
        try:
            inbox.put(raw, timeout=1)
            return
        except queue.Full:
            _check(workers)


def _result(outbox: Any, workers: list[Any]) -> dict[str, int]:
    """The next worker's counts; an error if a worker died without giving them."""
    while True:
        try:
            result: dict[str, int] = outbox.get(timeout=1)
            return result
        except queue.Empty:
            _check(workers)
