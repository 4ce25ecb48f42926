"""Importing many messages at once (``opsdesk mailgate --batch``): every message of a folder
(one file each, as Maildir and most exports keep them) or of an mbox file, committed a few
dozen at a time, by one process or several.

With several worker processes, the messages of one conversation all go to the same worker, in
their order in the folder: a reply is never used before the message that opened its ticket.
"""

from __future__ import annotations

import mailbox
import multiprocessing
import queue
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from django.db import connections

from opsdesk.intake.mail import services as mail

MESSAGE_ID = re.compile(rb"<[^<>\s]+>")
END = b""  # tells a worker there is nothing more


def messages_in(path: Path) -> Iterator[bytes]:
    """The raw messages under ``path``: each regular file of a folder tree in name order
    (Maildir's cur/ and new/ included; hidden files and Maildir's tmp/, where messages are
    still being written, left out), or each message of an mbox file."""
    if path.is_dir():
        files = (p for p in path.rglob("*") if p.is_file()
                 and not any(part.startswith(".") or part == "tmp"
                             for part in p.relative_to(path).parts))
        for file in sorted(files):
            yield file.read_bytes()
        return
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def conversation_of(raw: bytes) -> bytes:
    """The Message-ID that started the conversation ``raw`` belongs to (the first of its
    References, else what it replies to, else its own), or its bytes' checksum."""
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


def _receive_all(raws: Iterable[bytes], *, source: str, chunk: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    pending: list[bytes] = []
    for raw in raws:
        pending.append(raw)
        if len(pending) >= chunk:
            counts.update(d.status for d in mail.receive_many(pending, source=source))
            pending = []
    if pending:
        counts.update(d.status for d in mail.receive_many(pending, source=source))
    return counts


def _from_queue(inbox: Any) -> Iterator[bytes]:
    while (raw := inbox.get()) != END:
        yield raw


def _work(inbox: Any, outbox: Any, source: str, chunk: int) -> None:
    counts = _receive_all(_from_queue(inbox), source=source, chunk=chunk)
    connections.close_all()
    outbox.put(dict(counts))


def _receive_in_parallel(raws: Iterable[bytes], *, source: str, chunk: int,
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


def _put(inbox: Any, raw: bytes, workers: list[Any]) -> None:
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
