"""Attachment files on disk: each is there whole, or not at all.

``AttachmentStorage`` (the default storage) writes a file beside its place under a hidden
partial name, flushes it to the disk, and only then links it under its own name; a full disk
part-way removes the partial file. So no name a row could point to ever holds half a file, and
a file whose row was committed survives a power cut as the row does. ``store`` streams a file
into it (an upload read in chunks, or a mail's bytes), counting and hashing on the way, and
takes it away again when what the caller does next fails. What a rolled-back outer
transaction or a killed process still leaves, ``remove_orphans`` sweeps an hour later.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models import FileField
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
        with attachment.file.storage.open(attachment.file.name, "rb") as handle:
            return image_type(handle.read(IMAGE_HEAD_BYTES))
    except OSError:
        return None


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
            self.length += len(chunk)
            if self.length > self.limit:
                raise attachment_too_large(name=self.name, size=None)
            self.digest.update(chunk)
            yield chunk


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


def remove_orphans(*, older_than: timedelta = ORPHAN_AGE) -> int:
    """Remove the attachment files no row points to (a transaction around the attaching rolled
    back, or the process died before committing) and the partial files of interrupted writes,
    once older than ``older_than``; how many went."""
    root = Path(default_storage.path(""))
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
        if len(candidates) >= 500:
            removed += _remove_unreferenced(candidates)
            candidates = {}
    return removed + _remove_unreferenced(candidates)


def _remove_unreferenced(candidates: dict[str, Path]) -> int:
    referenced = set(Attachment.objects.filter(file__in=list(candidates))
                     .values_list("file", flat=True))
    orphans = [path for name, path in candidates.items() if name not in referenced]
    for path in orphans:
        log.info("Removing %s: no attachment points to it", path)
        path.unlink(missing_ok=True)
    return len(orphans)
