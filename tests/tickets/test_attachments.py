"""Files on a ticket: who may attach and download them, and what a hostile file cannot do."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import AttachmentTooLarge, StorageFull
from opsdesk.tickets.models import Attachment, TimelineEvent
from opsdesk.tickets.storage import PARTIAL_PREFIX, AttachmentStorage, remove_orphans
from tests.factories import ticket_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def readable(message: str) -> str:
    """A message with Django's non-breaking spaces (between a size and its unit) as spaces."""
    return message.replace("\xa0", " ")


def upload(api, key, name, content, *, internal=False, content_type="application/octet-stream"):
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    if internal:
        data["internal"] = "true"
    return api.client.post(f"/api/v1/tickets/{key}/attachments", data)


def test_submitter_attaches_a_screenshot_and_staff_download_it_unchanged(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10

    response = upload(api["submitter"], ticket.key, "支付失败截图.png", content,
                      content_type="image/png")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "支付失败截图.png"
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    download = api["owner"].client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "application/octet-stream"
    assert "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    event = api["owner"].timeline(ticket.key)[-1]
    assert event["kind"] == "attachment"
    assert event["data"]["name"] == "支付失败截图.png"


def test_a_file_name_cannot_name_a_path_and_html_is_never_served_inline(api, people, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)

    body = upload(api["owner"], ticket.key, "../../etc/\x00evil.html",
                  b"<script>alert(1)</script>", content_type="text/html").json()

    assert body["name"] == "evil.html"
    stored = Attachment.objects.get(pk=body["id"])
    assert (tmp_path / stored.file.name).resolve().is_relative_to(tmp_path / "attachments")
    assert "evil" not in stored.file.name
    download = api["owner"].client.get(body["url"])
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Security-Policy"] == "sandbox"


def test_internal_files_are_for_staff_only(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)

    refused = upload(api["submitter"], ticket.key, "x.txt", b"x", internal=True)
    internal = upload(api["owner"], ticket.key, "root-cause.txt", b"db lock", internal=True)

    assert refused.status_code == 403
    assert internal.status_code == 201
    assert api["submitter"].get(f"/tickets/{ticket.key}/attachments").json() == []
    assert api["submitter"].client.get(internal.json()["url"]).status_code == 404
    listed = api["owner"].get(f"/tickets/{ticket.key}/attachments").json()
    assert [a["name"] for a in listed] == ["root-cause.txt"]


def test_another_submitter_can_neither_attach_nor_download(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    mine = upload(api["submitter"], ticket.key, "log.txt", b"trace").json()

    assert upload(api["other_submitter"], ticket.key, "x.txt", b"x").status_code == 404
    assert api["other_submitter"].client.get(mine["url"]).status_code == 404
    assert Attachment.objects.count() == 1


def test_too_large_a_file_is_refused_with_the_limit_and_nothing_is_kept(api, people, settings,
                                                                         tmp_path):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 10 * 1024
    ticket = ticket_in(Status.ASSIGNED, people=people)

    response = upload(api["submitter"], ticket.key, "dump.bin", b"0" * (10 * 1024 + 1))

    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
    assert "10.0 KB" in readable(response.json()["message"])
    assert Attachment.objects.count() == 0
    assert not (tmp_path / "attachments").exists()


def test_a_closed_ticket_takes_no_more_files(api, people):
    ticket = ticket_in(Status.ARCHIVED, people=people)

    response = upload(api["owner"], ticket.key, "late.txt", b"late")

    assert response.status_code == 409
    assert Attachment.objects.count() == 0


def files_under(folder: Path) -> list[Path]:
    """Every file left under ``folder``, hidden partial files included."""
    return [path for path in folder.rglob("*") if path.is_file()]


class DiskThatFills:
    """A file being written to a disk with ``room`` bytes left: what fits is written, then the
    write fails as a full disk's does."""

    def __init__(self, real: Any, room: int) -> None:
        self.real, self.room = real, room

    def write(self, chunk: bytes) -> int:
        if len(chunk) > self.room:
            self.real.write(chunk[:self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(chunk)
        return int(self.real.write(chunk))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> DiskThatFills:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


class FullDiskStorage(AttachmentStorage):
    """The attachment storage on a disk with 100 KB left."""

    def _open_partial(self, directory: Path) -> tuple[Any, Path]:
        out, partial = super()._open_partial(directory)
        return DiskThatFills(out, room=100_000), partial


@pytest.fixture
def full_disk(settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": f"{__name__}.FullDiskStorage"}}


def test_a_full_disk_midway_leaves_no_partial_file_and_no_row(api, people, tmp_path, full_disk):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    events_before = TimelineEvent.objects.filter(ticket=ticket).count()

    response = upload(api["submitter"], ticket.key, "核心交换机日志.tar", b"x" * 300_000)

    assert response.status_code == 507, response.content
    body = response.json()
    assert body["code"] == "storage_full"
    assert "full" in body["message"] and "核心交换机日志.tar" in body["message"]
    assert Attachment.objects.count() == 0
    assert TimelineEvent.objects.filter(ticket=ticket).count() == events_before
    assert files_under(tmp_path) == []


def test_a_mails_file_on_a_full_disk_is_refused_and_leaves_nothing(people, tmp_path, full_disk):
    ticket = ticket_in(Status.ASSIGNED, people=people)

    with pytest.raises(StorageFull):
        services.add_attachment(ticket_id=ticket.pk, by=None, name="抓包.pcap",
                                content=b"\xd4\xc3\xb2\xa1" * 50_000)

    assert Attachment.objects.count() == 0
    assert files_under(tmp_path) == []


def test_a_refused_attachment_leaves_no_file(api, people, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    archived = ticket_in(Status.ARCHIVED, people=people)

    internal = upload(api["submitter"], ticket.key, "x.txt", b"x" * 5000, internal=True)
    late = upload(api["owner"], archived.key, "late.txt", b"late" * 5000)

    assert (internal.status_code, late.status_code) == (403, 409)
    assert files_under(tmp_path) == []


class WholeReadRefused(io.BytesIO):
    """A file that may only be read in chunks, as a large upload must be."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, "read whole into memory"
        return super().read(size)


def test_a_file_is_stored_in_chunks_with_its_size_and_hash(people, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    content = bytes(range(256)) * 20_000  # 5 MB: many chunks

    attachment = services.add_attachment(
        ticket_id=ticket.pk, by=people["submitter"], name="系统日志.log",
        content=File(WholeReadRefused(content), name="系统日志.log"),
    )

    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert Path(attachment.file.path).read_bytes() == content
    assert files_under(tmp_path) == [Path(attachment.file.path)]


class Arriving(io.RawIOBase):
    """A body of unknown length, read as it arrives (no size, no seeking)."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self.data.readinto(buffer)


def test_a_stream_is_refused_once_it_passes_the_limit_and_leaves_nothing(people, settings,
                                                                          tmp_path):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 200 * 1024
    ticket = ticket_in(Status.ASSIGNED, people=people)

    with pytest.raises(AttachmentTooLarge) as refused:
        services.add_attachment(ticket_id=ticket.pk, by=people["owner"], name="dump.bin",
                                content=File(Arriving(b"0" * 300_000), name="dump.bin"))

    assert "200.0 KB" in readable(refused.value.message)
    assert Attachment.objects.count() == 0
    assert files_under(tmp_path) == []


def test_an_upload_said_to_be_too_large_is_refused_before_its_body_is_read(api, people,
                                                                           settings):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 20 << 20
    ticket = ticket_in(Status.ASSIGNED, people=people)
    body = {"file": SimpleUploadedFile("备份.tar", b"0" * 1000)}

    # The test client's body holds 1,000 bytes; reading past them is an error, so only an
    # answer that never reads the body can pass.
    response = api["submitter"].client.post(f"/api/v1/tickets/{ticket.key}/attachments", body,
                                            CONTENT_LENGTH=str(200 << 20))

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "attachment_too_large"
    assert "20.0 MB" in readable(response.json()["message"])
    assert Attachment.objects.count() == 0


def aged(path: Path, *, hours: float) -> Path:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_files_a_rolled_back_transaction_left_are_swept_after_an_hour(people, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    kept = services.add_attachment(ticket_id=ticket.pk, by=None, name="第一封.eml",
                                   content=b"kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_attachment(ticket_id=ticket.pk, by=None, name="第二封.eml",
                                content=b"rolled back")
        raise RuntimeError("the rest of the mail batch failed")
    (left,) = [p for p in files_under(tmp_path) if p.name != Path(kept.file.name).name]
    interrupted = left.with_name(PARTIAL_PREFIX + "x1y2z3")
    interrupted.write_bytes(b"half a file")  # a write the process died in

    assert remove_orphans() == 0  # too young: it could still be on its way to a commit
    for path in (left, interrupted, Path(kept.file.path)):
        aged(path, hours=2)

    assert remove_orphans() == 2
    assert files_under(tmp_path) == [Path(kept.file.path)]
