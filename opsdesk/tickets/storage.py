"""Attachment files on disk (or in a bucket, tickets/bucket.py): each is there whole, or not
at all.

``AttachmentStorage`` (the default storage) writes a file beside its place under a hidden
partial name, flushes it to the disk, and only then links it under its own name; a full disk
part-way removes the partial file. So no name a row could point to ever holds half a file, and
a file whose row was committed survives a power cut as the row does. ``store`` streams a file
into it (an upload read in chunks, or a mail's bytes), counting and hashing on the way, and
takes it away again when what the caller does next fails. What a rolled-back outer
transaction or a killed process still leaves, ``remove_orphans`` sweeps an hour later.

The folder (``MEDIA_ROOT``: OPSDESK_UPLOADS_DIR) may be shared by several machines: names are
random, a link never replaces a file another machine wrote meanwhile, and a file whose row is
not committed yet is an hour away from counting as an orphan on any of them.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db.models import FileField
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import avoid_wrapping
from django.utils.translation import gettext as _

from opsdesk.tickets.errors import AttachmentTooLarge, StorageFull
from opsdesk.tickets.models import Attachment

log = logging.getLogger(__name__)

PARTIAL_PREFIX = ".partial-"
# What a write answers when the disk, or the user's quota on it, has no room left.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})
# A file younger than this may still be on its way to its row's commit.
ORPHAN_AGE = timedelta(hours=1)


@runtime_checkable
class HeadReader(Protocol):
    """A storage that reads a file's first bytes alone (a bucket)."""

    def read_head(self, name: str, size: int) -> bytes: ...


@runtime_checkable
class Listing(Protocol):
    """A storage without paths that lists its files, sweeps its interrupted uploads and takes
    a file under an exact name (a bucket)."""

    def stored_files(self, prefix: str) -> Iterator[tuple[str, datetime]]: ...

    def abort_uploads_before(self, prefix: str, cutoff: datetime) -> int: ...

    def put_file(self, name: str, path: Path) -> None: ...


# The image types a browser may show inline, told by the file's first bytes, never by its name
# or the type its uploader declared. SVG is left out on purpose: it can carry scripts.
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_HEAD_BYTES = 12


def image_type(head: bytes) -> str | None:
    """The image type of a file starting with ``head`` (PNG, JPEG, GIF or WebP), or None."""
    for signature, kind in IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_type_of(attachment: Attachment) -> str | None:
    """The attachment's image type by its content; None for anything else, or a file gone."""
    try:
        return image_type(read_head(attachment.file.storage, attachment.file.name))
    except OSError:
        return None


def read_head(storage: Storage, name: str) -> bytes:
    """The first bytes of a stored file: from a bucket without downloading the rest."""
    if isinstance(storage, HeadReader):
        return storage.read_head(name, IMAGE_HEAD_BYTES)
    with storage.open(name, "rb") as handle:
        return bytes(handle.read(IMAGE_HEAD_BYTES))


def file_size(size: int) -> str:
    """A size for people, in the active language: KB below a megabyte (never bytes: a
    non-empty file is at least 0.1 KB), then MB, GB, TB, with one decimal."""
    units = (_("%s KB"), _("%s MB"), _("%s GB"), _("%s TB"))
    value, step = size / 1024, 0
    while value >= 1024 and step < len(units) - 1:
        value, step = value / 1024, step + 1
    if 0 < value < 0.1:
        value = 0.1
    return avoid_wrapping(units[step] % number_format(round(value, 1), 1))


def attachment_too_large(*, name: str | None, size: int | None) -> AttachmentTooLarge:
    """The refusal of a file over OPSDESK_ATTACHMENT_MAX_BYTES, sizes in KB/MB; ``name`` and
    ``size`` are None when the upload was refused before its file was seen or read whole."""
    limit = settings.OPSDESK_ATTACHMENT_MAX_BYTES
    values = {"name": name, "limit": file_size(limit),
              "size": file_size(size) if size is not None else ""}
    if name is None:
        message = _("The upload is larger than %(limit)s, the most an attachment may be.")
    elif size is None:
        message = _("%(name)s is larger than %(limit)s, the most an attachment may be.")
    else:
        message = _("%(name)s is %(size)s; attachments may be at most %(limit)s.")
    return AttachmentTooLarge(message % values, field="file", limit=limit)


class AttachmentStorage(FileSystemStorage):
    """Django's file-system storage, writing each file whole or not at all (see above)."""

    def _save(self, name: str, content: Any) -> str:
        directory = Path(self.path(name)).parent
        directory.mkdir(parents=True, exist_ok=True)
        out, partial = self._open_partial(directory)
        try:
            with out:
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if self.file_permissions_mode is not None:
                partial.chmod(self.file_permissions_mode)
            name = self._link(partial, name)
        finally:
            partial.unlink(missing_ok=True)
        _fsync_directory(directory)
        return name

    def _open_partial(self, directory: Path) -> tuple[IO[bytes], Path]:
        descriptor, path = tempfile.mkstemp(prefix=PARTIAL_PREFIX, dir=directory)
        return os.fdopen(descriptor, "wb"), Path(path)

    def _link(self, partial: Path, name: str) -> str:
        """Give the complete file its name; a link, unlike a rename, never replaces a file
        that took the name meanwhile."""
        while True:
            try:
                os.link(partial, self.path(name))
                return name
            except FileExistsError:
                name = self.get_available_name(name)


def _fsync_directory(directory: Path) -> None:
    """Make the new name itself durable (the file's data already is)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class StoredFile:
    name: str  # in the storage
    size: int
    sha256: str


class _Measured(File):
    """A file as the storage reads it: counted and hashed on the way, and refused at the chunk
    that passes the limit (a stream whose size was not known before)."""

    def __init__(self, source: File, *, name: str, limit: int) -> None:
        super().__init__(None, name)
        self.source = source
        self.limit = limit
        self.length = 0
        self.digest = hashlib.sha256()

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        for chunk in self.source.chunks(chunk_size):
            yield self._counted(chunk)

    def read(self, size: int | None = -1) -> bytes:
        """What a bucket's upload reads (it reads rather than taking chunks), from the start."""
        if self.length == 0 and self.source.seekable():
            self.source.seek(0)
        chunk = self.source.read(-1 if size is None else size)
        return self._counted(chunk.encode() if isinstance(chunk, str) else chunk)

    def _counted(self, chunk: bytes) -> bytes:
        self.length += len(chunk)
        if self.length > self.limit:
            raise attachment_too_large(name=self.name, size=None)
        self.digest.update(chunk)
        return chunk


def _declared_size(source: File) -> int | None:
    try:
        return int(source.size)
    except (AttributeError, OSError, TypeError):
        return None


@contextmanager
def store(field: FileField, content: bytes | File, *, name: str) -> Iterator[StoredFile]:
    """``content`` (bytes, or a file read in chunks) stored as a new file of ``field`` for the
    body of the ``with`` to record; if the body raises, the file is removed again. A file over
    OPSDESK_ATTACHMENT_MAX_BYTES is refused (before anything is written when its size is
    known), and a full disk is ``StorageFull``; neither leaves anything behind."""
    source = ContentFile(content) if isinstance(content, bytes) else content
    size = _declared_size(source)
    if size is not None and size > settings.OPSDESK_ATTACHMENT_MAX_BYTES:
        raise attachment_too_large(name=name, size=size)
    measured = _Measured(source, name=name, limit=settings.OPSDESK_ATTACHMENT_MAX_BYTES)
    storage = field.storage
    try:
        saved = storage.save(field.generate_filename(None, name), measured,
                             max_length=field.max_length)
    except OSError as error:
        if error.errno not in NO_ROOM:
            raise
        log.error("No room to store an attachment in %s: %s", settings.MEDIA_ROOT, error)
        raise StorageFull(
            _("The disk that keeps files is full, so %(name)s was not kept. Try again once an "
              "administrator has made room.") % {"name": name}
        ) from error
    try:
        yield StoredFile(saved, measured.length, measured.digest.hexdigest())
    except BaseException:
        storage.delete(saved)
        raise


ORPHAN_BATCH = 500


def remove_orphans(*, older_than: timedelta = ORPHAN_AGE) -> int:
    """Remove the attachment files no row points to (a transaction around the attaching rolled
    back, or the process died before committing) and the partial files of interrupted writes
    (in a bucket: its unfinished uploads), once older than ``older_than``; how many went.
    With several workers each runs it: removing a file twice is no harm."""
    storage = default_storage
    if isinstance(storage, Listing):
        return _remove_orphans_listed(storage, older_than)
    root = Path(storage.path(""))
    cutoff = time.time() - older_than.total_seconds()
    removed, candidates = 0, {}
    for path in (root / "attachments").rglob("*"):
        if not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        if path.name.startswith(PARTIAL_PREFIX):
            path.unlink(missing_ok=True)
            removed += 1
            continue
        candidates[path.relative_to(root).as_posix()] = path
        if len(candidates) >= ORPHAN_BATCH:
            removed += _remove_unreferenced(storage, candidates)
            candidates = {}
    return removed + _remove_unreferenced(storage, candidates)


def _remove_orphans_listed(storage: Listing, older_than: timedelta) -> int:
    cutoff = timezone.now() - older_than
    removed = storage.abort_uploads_before("attachments/", cutoff)
    candidates: dict[str, object] = {}
    for name, modified in storage.stored_files("attachments/"):
        if modified > cutoff:
            continue
        candidates[name] = name
        if len(candidates) >= ORPHAN_BATCH:
            removed += _remove_unreferenced(storage, candidates)
            candidates = {}
    return removed + _remove_unreferenced(storage, candidates)


def _remove_unreferenced(storage: Any, candidates: Mapping[str, object]) -> int:
    referenced = set(Attachment.objects.filter(file__in=list(candidates))
                     .values_list("file", flat=True))
    orphans = [name for name in candidates if name not in referenced]
    for name in orphans:
        log.info("Removing %s: no attachment points to it", candidates[name])
        storage.delete(name)
    return len(orphans)
