"""``opsdesk backup`` and ``opsdesk restore``: the whole desk in one archive, taken while it runs.

The archive is a tar file (gzip-compressed when its name ends in .gz or .tgz) that describes
itself: first ``manifest.json`` (format, opsdesk version, database vendor, the migrations
applied, every file with its size and SHA-256, when it was made), then the database as one
consistent snapshot (``snapshots``), the secret key file, and under ``media/`` every file a
row of that snapshot points to. A file is written before its row is committed and never
changed after, so each file the snapshot names is on disk whatever the desk does meanwhile;
files of rows committed later wait for the next backup. The archive appears under its name
only once it is complete.

A restore reads the archive once, from its start. Before changing anything it refuses an
archive of another database vendor, of a newer schema or format, and a desk that already
holds data (unless forced), and checks every file against the manifest as it unpacks it beside
the data folder. Only then does it replace the database (in one step), the files and the key,
and migrate the database to this version's schema.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path, PurePosixPath
from typing import IO, Protocol, runtime_checkable

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from opsdesk.runtime import snapshots

FORMAT = "opsdesk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 256 << 20
SECRET_KEY = "secret_key"
CHUNK = 1 << 20
VENDORS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# What the manifest counts: the rows an app registers under this noun (snapshots.count).
COUNTED_IN_MANIFEST = "tickets"


@runtime_checkable
class Bucket(Protocol):
    """A storage without paths that takes a file under an exact name (tickets/bucket.py)."""

    def put_file(self, name: str, path: Path) -> None: ...


class BackupError(Exception):
    """A backup or restore that cannot be done; the message tells the operator why."""


@dataclass(frozen=True)
class Entry:
    name: str  # in the archive
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    opsdesk_version: str
    created_at: str
    vendor: str
    database: str  # the snapshot's name in the archive
    migrations: dict[str, list[str]]
    secret_key: str  # "included", or "environment" (OPSDESK_SECRET_KEY, not in the archive)
    tickets: int
    files: list[Entry]

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)},
                          ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise ValueError("not opsdesk's format")
            if int(data["format_version"]) > FORMAT_VERSION:
                raise BackupError(
                    f"This archive was made by a newer opsdesk ({data.get('opsdesk_version')}, "
                    f"archive format {data['format_version']}); this one reads format "
                    f"{FORMAT_VERSION}. Upgrade opsdesk, then restore.")
            manifest = cls(
                opsdesk_version=str(data["opsdesk_version"]),
                created_at=str(data["created_at"]), vendor=str(data["vendor"]),
                database=str(data["database"]),
                migrations={str(app): [str(n) for n in names]
                            for app, names in data["migrations"].items()},
                secret_key=str(data["secret_key"]), tickets=int(data["tickets"]),
                files=[Entry(str(f["name"]), int(f["size"]), str(f["sha256"]))
                       for f in data["files"]],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(
                f"Not an opsdesk backup: its manifest is unreadable ({error}).") from error
        for entry in manifest.files:
            _check_member_name(entry.name)
        if manifest.database not in {e.name for e in manifest.files}:
            raise BackupError("Not an opsdesk backup: its manifest names no database.")
        return manifest

    @property
    def attachments(self) -> int:
        return sum(entry.name.startswith("media/") for entry in self.files)


def _check_member_name(name: str) -> None:
    """Only names opsdesk writes, and none that could leave the folder it is unpacked in."""
    path = PurePosixPath(name)
    safe = (not path.is_absolute() and all(part not in ("", ".", "..") for part in path.parts)
            and (name == SECRET_KEY or path.parts[0] in ("database", "media"))
            and len(path.parts) >= (1 if name == SECRET_KEY else 2))
    if not safe:
        raise BackupError(f"Not an opsdesk backup: it holds a file named {name!r}.")


# --- backing up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupDone:
    archive: Path
    manifest: Manifest
    missing: list[str]  # files rows point to that were not on disk


def back_up(destination: Path) -> BackupDone:
    """The desk, as it is now, in a new archive at ``destination`` (or, if that is a folder,
    in a dated archive inside it)."""
    archive = _new_archive_path(destination)
    work = Path(tempfile.mkdtemp(prefix=".opsdesk-backup-", dir=archive.parent))
    try:
        snapshot = snapshots.take(work)
        members = [(f"database/{snapshot.path.name}", snapshot.path)]
        key_file = Path(settings.DATA_DIR) / SECRET_KEY
        key_in_environment = bool(os.environ.get("OPSDESK_SECRET_KEY"))
        if not key_in_environment and key_file.is_file():
            members.append((SECRET_KEY, key_file))
        missing = []
        for name in snapshot.files:
            path = _on_disk(name, work)
            if path.is_file():
                members.append((f"media/{name}", path))
            else:
                missing.append(name)
        manifest = Manifest(
            opsdesk_version=version("opsdesk"),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            vendor=connection.vendor, database=members[0][0], migrations=snapshot.migrations,
            secret_key="environment" if key_in_environment else "included",
            tickets=snapshot.counts.get(COUNTED_IN_MANIFEST, 0),
            files=[Entry(name, *_measure(path)) for name, path in members],
        )
        _write_archive(archive, manifest, [path for _name, path in members])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupDone(archive, manifest, missing)


def _on_disk(name: str, work: Path) -> Path:
    """Where the stored file ``name`` is on disk: in the uploads folder, or (with a bucket)
    downloaded into ``work``; nothing there if it is missing."""
    if not isinstance(default_storage, Bucket):
        return Path(default_storage.path(name))
    target = work / "media" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with default_storage.open(name, "rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    except FileNotFoundError:
        target.unlink(missing_ok=True)
    return target


def _new_archive_path(destination: Path) -> Path:
    if destination.is_dir():
        return destination / f"opsdesk-{timezone.localtime():%Y%m%d-%H%M%S}.tar"
    if not destination.name.endswith((".tar", ".tar.gz", ".tgz")):
        raise BackupError(f"{destination}: an archive's name ends in .tar (or .tar.gz to "
                          f"compress it); or give a folder to write a dated one in.")
    if destination.exists():
        raise BackupError(f"{destination} already exists; a backup never overwrites one.")
    if not destination.parent.is_dir():
        raise BackupError(f"There is no folder {destination.parent}.")
    return destination


def _measure(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _Hashing(io.RawIOBase):
    """A file read through, hashed on the way."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source, self.digest = source, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.digest.update(chunk)
        return chunk


def _write_archive(archive: Path, manifest: Manifest, paths: list[Path]) -> None:
    """Write the archive beside its name and give it the name once it is whole and on disk."""
    partial = archive.with_name(f".{archive.name}.partial")
    compressed = archive.name.endswith((".gz", ".tgz"))
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            with tarfile.open(fileobj=out, mode="w:gz" if compressed else "w",
                              format=tarfile.PAX_FORMAT) as tar:
                raw = manifest.to_json()
                tar.addfile(_member(MANIFEST, len(raw)), io.BytesIO(raw))
                for entry, path in zip(manifest.files, paths, strict=True):
                    with path.open("rb") as source:
                        hashing = _Hashing(source)
                        tar.addfile(_member(entry.name, entry.size), hashing)
                    if hashing.digest.hexdigest() != entry.sha256:
                        raise BackupError(f"{path} changed while it was being backed up.")
            out.flush()
            os.fsync(out.fileno())
        os.link(partial, archive)  # never replaces an archive that appeared meanwhile
    except FileExistsError as error:
        raise BackupError(f"{archive} already exists; a backup never overwrites one.") from error
    finally:
        partial.unlink(missing_ok=True)


def _member(name: str, size: int) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.size, member.mode, member.mtime = size, 0o600, int(time.time())
    return member


# --- restoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreDone:
    manifest: Manifest
    key_in_environment: bool  # the restored key file is not the one in use


def restore(source: Path, *, force: bool = False) -> RestoreDone:
    """Replace this desk's database, files and secret key with the archive's, then migrate."""
    if not source.is_file():
        raise BackupError(f"There is no archive at {source}.")
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(source, mode="r|*") as tar:
            manifest = _read_manifest(tar)
            _check_fits(manifest)
            _check_empty(force=force)
            staging = Path(tempfile.mkdtemp(prefix=".opsdesk-restore-", dir=media_root.parent))
            try:
                _unpack(tar, manifest, staging)
                snapshots.load(staging / manifest.database)
                if isinstance(default_storage, Bucket):
                    _upload_media(staging / "media")
                else:
                    _replace_media(staging / "media", media_root, staging / "replaced")
                if (staging / SECRET_KEY).is_file():
                    _replace_secret_key(staging / SECRET_KEY)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except tarfile.TarError as error:
        raise BackupError(f"{source} is not a readable archive ({error}).") from error
    call_command("migrate", interactive=False, verbosity=0)
    return RestoreDone(manifest, key_in_environment=bool(os.environ.get("OPSDESK_SECRET_KEY")))


def _read_manifest(tar: tarfile.TarFile) -> Manifest:
    first = tar.next()
    if (first is None or first.name != MANIFEST or not first.isfile()
            or first.size > MANIFEST_MAX_BYTES):
        raise BackupError(f"Not an opsdesk backup: it does not start with {MANIFEST}.")
    raw = tar.extractfile(first)
    assert raw is not None
    return Manifest.from_json(raw.read())


def _check_fits(manifest: Manifest) -> None:
    ours = connection.vendor
    if manifest.vendor != ours:
        raise BackupError(
            f"This archive holds a {VENDORS.get(manifest.vendor, manifest.vendor)} database; "
            f"this desk runs on {VENDORS.get(ours, ours)}. Restore it into a desk on "
            f"{VENDORS.get(manifest.vendor, manifest.vendor)}. Nothing was changed.")
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, names in manifest.migrations.items()
               for name in names if (app, name) not in known]
    if unknown:
        raise BackupError(
            f"This archive's database has a newer schema than this opsdesk "
            f"({version('opsdesk')}) knows: it was made by opsdesk {manifest.opsdesk_version} "
            f"and has the migrations {', '.join(unknown[:5])}"
            f"{' and more' if len(unknown) > 5 else ''}. Upgrade opsdesk, then restore. "
            f"Nothing was changed.")


def _check_empty(*, force: bool) -> None:
    tables = set(connection.introspection.table_names())
    counts = {noun: model._default_manager.count() if model._meta.db_table in tables else 0
              for noun, model in snapshots.counted().items()}
    media_root = Path(settings.MEDIA_ROOT)
    files = media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*"))
    if (any(counts.values()) or files) and not force:
        held = ", ".join(f"{noun}: {n}" for noun, n in counts.items())
        raise BackupError(
            f"This desk already holds data ({held}{', attachment files' if files else ''}); "
            f"a restore replaces all of it. Run again with --force to replace it. Nothing was "
            f"changed.")


def _unpack(tar: tarfile.TarFile, manifest: Manifest, staging: Path) -> None:
    """Every file of the archive into ``staging``, each checked against the manifest."""
    expected = {entry.name: entry for entry in manifest.files}
    members = iter(tar)
    next(members)  # the manifest, read already
    for member in members:
        entry = expected.pop(member.name, None)
        source = tar.extractfile(member) if member.isfile() else None
        if entry is None or source is None:
            raise BackupError(f"The archive holds {member.name!r}, which its manifest does not "
                              f"list: it is not as opsdesk wrote it. Nothing was changed.")
        target = staging / entry.name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with target.open("wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if (size, digest.hexdigest()) != (entry.size, entry.sha256):
            raise BackupError(f"The archive is damaged: {entry.name} does not match its "
                              f"checksum. Nothing was changed.")
    if expected:
        names = ", ".join(sorted(expected)[:5])
        raise BackupError(f"The archive is incomplete: {len(expected)} files its manifest "
                          f"lists are missing ({names}). Nothing was changed.")
    os.sync()


def _replace_media(unpacked: Path, media_root: Path, replaced: Path) -> None:
    """The archive's files in place of the desk's (set aside, then removed with staging)."""
    media_root.mkdir(exist_ok=True)
    replaced.mkdir()
    for entry in list(media_root.iterdir()):
        shutil.move(entry, replaced / entry.name)
    if unpacked.is_dir():
        for entry in list(unpacked.iterdir()):
            shutil.move(entry, media_root / entry.name)
    os.sync()


def _upload_media(unpacked: Path) -> None:
    """The archive's files into the bucket under their own names; objects the restored rows
    do not point to are swept as orphans an hour later (tickets/storage.py)."""
    bucket = default_storage
    assert isinstance(bucket, Bucket)
    for path in sorted(unpacked.rglob("*")) if unpacked.is_dir() else []:
        if path.is_file():
            bucket.put_file(path.relative_to(unpacked).as_posix(), path)


def _replace_secret_key(unpacked: Path) -> None:
    key_file = Path(settings.DATA_DIR) / SECRET_KEY
    fresh = key_file.with_name(f".{SECRET_KEY}.restored")
    fresh.write_bytes(unpacked.read_bytes())
    fresh.chmod(0o600)
    os.replace(fresh, key_file)

