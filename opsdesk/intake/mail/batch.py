"""Importing many messages at once (``opsdesk mailgate --batch``): every message of a folder
(one file each, as Maildir and most exports keep them) or of an mbox file."""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from opsdesk.intake.mail import services as mail


def messages_in(path: Path) -> Iterator[bytes]:
    """The raw messages under ``path``: each regular file of a folder tree in name order
    (Maildir's cur/ and new/ included), or each message of an mbox file."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield file.read_bytes()
        return
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def import_paths(paths: Iterable[str], *, source: str) -> Counter[str]:
    """Receive every message under ``paths``; how many ended in each status."""
    counts: Counter[str] = Counter()
    for path in paths:
        for raw in messages_in(Path(path)):
            counts[mail.receive(raw=raw, source=source).status] += 1
    return counts
