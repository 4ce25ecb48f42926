"""Attachment files in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, any such server),
chosen by ``OPSDESK_S3_BUCKET`` (settings): what several machines share without a shared
folder.

An object appears whole or not at all (a single PUT, or a multipart upload that only becomes
an object when it completes), so the guarantee of the folder's storage (tickets/storage.py)
holds without partial names. Objects are private (the bucket's default ACL): every download
goes through opsdesk, which checks who may read the ticket. What an interrupted upload or a
rolled-back transaction leaves is swept by ``remove_orphans`` as for the folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# A download larger than this is spooled to a temporary file instead of memory.
DOWNLOAD_MEMORY_BYTES = 1 << 20


class BucketStorage(S3Storage):
    """django-storages' S3 storage with opsdesk's defaults: never replacing an object, private
    objects, downloads spooled to disk past a megabyte."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("file_overwrite", False)
        settings.setdefault("default_acl", None)
        settings.setdefault("max_memory_size", DOWNLOAD_MEMORY_BYTES)
        super().__init__(**settings)

    def read_head(self, name: str, size: int) -> bytes:
        """The first ``size`` bytes of ``name``, without downloading the rest (the ticket page
        tells images by their first bytes); FileNotFoundError for an object not there."""
        key = self._normalize_name(name)
        try:
            answer = self.bucket.Object(key).get(Range=f"bytes=0-{size - 1}")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from error
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object
            raise
        body = answer["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def put_file(self, name: str, path: Path) -> None:
        """The file at ``path`` as the object ``name`` exactly, replacing one of that name (a
        restore puts back files under the names their rows hold)."""
        self.bucket.Object(self._normalize_name(clean_name(name))).upload_file(str(path))

    def stored_files(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Every object under ``prefix`` (a storage name, ``attachments/``) with its last
        change, as storage names."""
        root = f"{self.location}/" if self.location else ""
        for summary in self.bucket.objects.filter(Prefix=root + prefix):
            yield summary.key[len(root):], summary.last_modified

    def abort_uploads_before(self, prefix: str, cutoff: datetime) -> int:
        """Abort the multipart uploads under ``prefix`` begun before ``cutoff`` and never
        completed (a process killed mid-upload): their parts cost storage and appear nowhere.
        Returns how many."""
        root = f"{self.location}/" if self.location else ""
        aborted = 0
        for upload in self.bucket.multipart_uploads.filter(Prefix=root + prefix):
            if upload.initiated < cutoff:
                upload.abort()
                aborted += 1
        return aborted
