"""Attachments in an S3-compatible bucket (OPSDESK_S3_BUCKET), against a real local S3 server
(moto's, started as a process): uploaded and downloaded unchanged, private, refused whole when
too large, told apart as images by their first bytes alone, and swept when orphaned."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.runtime.backup import back_up
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import AttachmentTooLarge
from opsdesk.tickets.models import Attachment
from opsdesk.tickets.storage import image_type_of, remove_orphans
from tests.factories import ticket_in
from tests.runtime.desk import free_port, wait_for

boto3 = pytest.importorskip("boto3")
pytest.importorskip("storages")
pytest.importorskip("moto")

pytestmark = pytest.mark.django_db

KEY_ID, SECRET = "opsdesk-test", "bucket-secret-Vd83kq"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local S3-compatible server (moto) for this module's tests; its address."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                   "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), timeout=30, what="the S3 server")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        _client(url).list_buckets()
    except Exception:
        return False
    return True


def _client(url: str) -> Any:
    return boto3.client("s3", endpoint_url=url, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET, region_name="us-east-1")


@pytest.fixture
def bucket(s3_server: str, settings: Any, tmp_path: Path) -> Iterator[Any]:
    """A new bucket as the desk's attachment storage (as settings builds it from
    OPSDESK_S3_*), with a prefix; the client to look into it."""
    name = f"opsdesk-{uuid.uuid4().hex[:12]}"
    client = _client(s3_server)
    client.create_bucket(Bucket=name)
    settings.MEDIA_ROOT = tmp_path / "media"  # must stay empty
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "opsdesk.tickets.bucket.BucketStorage",
        "OPTIONS": {"bucket_name": name, "endpoint_url": s3_server, "region_name": "us-east-1",
                    "access_key": KEY_ID, "secret_key": SECRET, "location": "desk",
                    "addressing_style": "path"}}}
    client.bucket_name = name
    yield client


def objects(client: Any) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=client.bucket_name).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=client.bucket_name, Key=o["Key"])["Body"].read()
            for o in listed}


def test_an_upload_lands_in_the_bucket_and_downloads_unchanged(api, people, bucket, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    upload = SimpleUploadedFile("支付失败截图.png", PNG, content_type="image/png")

    answer = api["submitter"].client.post(f"/api/v1/tickets/{ticket.key}/attachments",
                                          {"file": upload})

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    stored = Attachment.objects.get(pk=body["id"])
    assert objects(bucket) == {f"desk/{stored.file.name}": PNG}
    assert not (tmp_path / "media").exists()
    download = api["owner"].client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    # Private: only through opsdesk, which checks who may read the ticket.
    acl = bucket.get_object_acl(Bucket=bucket.bucket_name, Key=f"desk/{stored.file.name}")
    assert not [g for g in acl["Grants"] if g["Grantee"].get("URI", "").endswith("AllUsers")]


def test_an_image_is_told_by_its_first_bytes_without_downloading_the_rest(people, bucket):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    image = services.add_attachment(ticket_id=ticket.pk, by=None, name="a.png", content=PNG)
    text = services.add_attachment(ticket_id=ticket.pk, by=None, name="b.txt", content=b"")

    storage = image.file.storage
    assert storage.read_head(image.file.name, 12) == PNG[:12]
    assert image_type_of(image) == "image/png"
    assert image_type_of(text) is None
    bucket.delete_object(Bucket=bucket.bucket_name, Key=f"desk/{image.file.name}")
    assert image_type_of(image) is None  # a file gone is no image


class Arriving(io.RawIOBase):
    """A stream whose size nobody knows before it has been read (a mail part, a pipe)."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self.data.readinto(buffer)


@pytest.mark.parametrize("size", [300_000, 12 << 20], ids=["one-put", "multipart"])
def test_a_stream_past_the_limit_leaves_nothing_in_the_bucket(people, settings, bucket, size):
    # Past 8 MB an upload goes in parts: the refusal must abort it, not leave its parts.
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = size - 1
    ticket = ticket_in(Status.ASSIGNED, people=people)

    with pytest.raises(AttachmentTooLarge):
        services.add_attachment(ticket_id=ticket.pk, by=people["owner"], name="dump.bin",
                                content=File(Arriving(b"0" * size), name="dump.bin"))

    assert Attachment.objects.count() == 0
    assert objects(bucket) == {}
    uploads = bucket.list_multipart_uploads(Bucket=bucket.bucket_name).get("Uploads", [])
    assert uploads == []


def test_a_large_stream_is_stored_whole(people, bucket):
    content = bytes(range(256)) * (40 << 10)  # 10 MB: in parts
    ticket = ticket_in(Status.ASSIGNED, people=people)

    kept = services.add_attachment(ticket_id=ticket.pk, by=None, name="dump.bin",
                                   content=File(Arriving(content), name="dump.bin"))

    assert kept.size == len(content)
    assert kept.sha256 == hashlib.sha256(content).hexdigest()
    assert objects(bucket)[f"desk/{kept.file.name}"] == content


def test_orphans_and_unfinished_uploads_are_swept_once_old(people, bucket):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    kept = services.add_attachment(ticket_id=ticket.pk, by=None, name="kept.txt", content=b"k")
    orphan = "desk/attachments/2024/12/" + uuid.uuid4().hex  # a rolled-back attaching
    bucket.put_object(Bucket=bucket.bucket_name, Key=orphan, Body=b"rolled back")
    elsewhere = "backups/other.tar"  # not the desk's: never touched
    bucket.put_object(Bucket=bucket.bucket_name, Key=elsewhere, Body=b"x")

    assert remove_orphans() == 0  # too young: it could still be on its way to a commit
    # A process killed mid-upload (moto says every upload began in 2010: old at once).
    unfinished = "desk/attachments/2024/12/" + uuid.uuid4().hex
    bucket.create_multipart_upload(Bucket=bucket.bucket_name, Key=unfinished)
    time.sleep(1.1)  # the server keeps times in whole seconds
    assert remove_orphans(older_than=timedelta(seconds=1)) == 2

    assert sorted(objects(bucket)) == sorted([f"desk/{kept.file.name}", elsewhere])
    assert bucket.list_multipart_uploads(Bucket=bucket.bucket_name).get("Uploads", []) == []


def test_the_settings_choose_the_bucket_and_never_log_its_key(s3_server, tmp_path):
    env = {"OPSDESK_DATA_DIR": str(tmp_path), "OPSDESK_DATABASE_URL": "",
           "OPSDESK_S3_BUCKET": "desk-files", "OPSDESK_S3_ENDPOINT_URL": s3_server,
           "OPSDESK_S3_ACCESS_KEY_ID": KEY_ID, "OPSDESK_S3_SECRET_ACCESS_KEY": SECRET,
           "DJANGO_SETTINGS_MODULE": "opsdesk.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", (
        "import django, logging; django.setup(); "
        "from django.core.files.storage import default_storage as s; "
        "print(s.bucket_name, type(s._wrapped).__name__, s.addressing_style); "
        "logging.getLogger('opsdesk').warning('key is %s', s.secret_key)")],
        env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["desk-files", "BucketStorage", "path"]
    assert "key is ****" in done.stderr and SECRET not in done.stderr + done.stdout


# Committed for real (the backup reads through a connection of its own); serialized_rollback
# puts back the data migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_holds_the_files_of_the_bucket(people, bucket, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    kept = services.add_attachment(ticket_id=ticket.pk, by=None, name="a.png", content=PNG)
    gone = services.add_attachment(ticket_id=ticket.pk, by=None, name="b.txt", content=b"b")
    bucket.delete_object(Bucket=bucket.bucket_name, Key=f"desk/{gone.file.name}")

    done = back_up(tmp_path / "desk.tar")

    with tarfile.open(done.archive) as archive:
        member = archive.extractfile(f"media/{kept.file.name}")
        assert member is not None and member.read() == PNG
    assert done.missing == [gone.file.name]
