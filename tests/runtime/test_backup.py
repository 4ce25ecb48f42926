"""``opsdesk backup`` and ``opsdesk restore``: a round trip through the real commands gives back
every ticket, event, comment and attachment (byte for byte) and the secret key, on the database
the suite runs on; a backup taken while tickets are filed holds each of them whole; a restore
refuses, before changing anything, what it must not restore."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

from opsdesk.runtime import backup
from opsdesk.runtime.backup import FORMAT, FORMAT_VERSION, BackupError, back_up, restore
from opsdesk.tickets import services
from opsdesk.tickets.models import Ticket
from tests.factories import TicketFactory
from tests.runtime.desk import Desk, postgres_base_url, throwaway_desk, wait_for

FILE_SOME_TICKETS = """
from opsdesk.accounts.models import User
from opsdesk.tickets import services
submitter = User.objects.get(username="desk-submitter")
for n, title in enumerate(["支付接口超时", "报表导出中文乱码", "登录页白屏"]):
    ticket = services.create_ticket(by=submitter, title=title, impact="few_users",
                                    urgency="normal", description="运营部反馈：" + title * 3,
                                    occurred_at="2024-12-02T09:30:00+08:00",
                                    steps_to_reproduce="打开页面", error_message="超时",
                                    impact_scope="运营部", submitter_contact="分机 8021")
    services.add_comment(ticket_id=ticket.pk, by=submitter, body=f"补充第 {n} 条：已重试三次")
    services.add_attachment(ticket_id=ticket.pk, by=submitter, name=f"错误截图{n}.png",
                            content=bytes(range(256)) * (n + 1) * 40)
    services.add_attachment(ticket_id=ticket.pk, by=None, name="邮件附件：应用日志.txt",
                            content=("第 %d 行日志\\n" % n * 500).encode())
"""

DUMP = """
import hashlib, json
from django.core.files.storage import default_storage
from opsdesk.tickets.models import Attachment, Comment, Ticket, TimelineEvent
def row(obj):
    return {f.attname: str(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}
def content(attachment):
    with default_storage.open(attachment.file.name) as stored:
        return hashlib.sha256(stored.read()).hexdigest()
print(json.dumps({
    "tickets": [row(t) for t in Ticket.objects.order_by("pk")],
    "events": [row(e) for e in TimelineEvent.objects.order_by("pk")],
    "comments": [row(c) for c in Comment.objects.order_by("pk")],
    "attachments": [{**row(a), "content": content(a)} for a in Attachment.objects.order_by("pk")],
}, ensure_ascii=False))
"""

# Files a ticket with an attachment, again and again, until the file named first appears.
KEEP_FILING = """
import os, sys
from pathlib import Path
import django
django.setup()
from opsdesk.accounts.models import User
from opsdesk.tickets import services
submitter = User.objects.get(username="desk-submitter")
stop, n = Path(sys.argv[1]), 0
while not stop.exists():
    ticket = services.create_ticket(by=submitter, title=f"持续写入 {n}", impact="few_users",
                                    urgency="normal", description="持续写入",
                                    occurred_at="2024-12-02T09:30:00+08:00",
                                    steps_to_reproduce="写入", error_message="无",
                                    impact_scope="测试", submitter_contact="分机 8021")
    services.add_attachment(ticket_id=ticket.pk, by=submitter, name=f"附件{n}.log",
                            content=os.urandom(4096))
    n += 1
"""


def _database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def fresh_desk(folder: Path) -> Iterator[Desk]:
    """An empty data folder and an empty database (never migrated), as on a new machine."""
    base = postgres_base_url()
    name = f"opsdesk_r_{uuid.uuid4().hex[:12]}"
    if base:
        with psycopg.connect(_database(base, "postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    folder.mkdir()
    try:
        yield Desk(folder, _database(base, name) if base else "")
    finally:
        if base:
            with psycopg.connect(_database(base, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dump(desk: Desk) -> dict[str, Any]:
    said = desk.opsdesk("shell", "-c", DUMP)
    return json.loads(said.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(desk: Desk, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "opsdesk.cli", *args], env=desk.env,
                          capture_output=True, text=True, timeout=300)


def test_a_round_trip_through_the_commands_gives_everything_back(tmp_path: Path) -> None:
    archive = tmp_path / "desk.tar.gz"
    with throwaway_desk(tmp_path) as desk, fresh_desk(tmp_path / "new") as new:
        desk.opsdesk("shell", "-c", FILE_SOME_TICKETS, env={"OPSDESK_DISPATCH": "inline"})
        before = dump(desk)
        said = desk.opsdesk("backup", str(archive))

        restored = run(new, "restore", str(archive))

        assert restored.returncode == 0, restored.stderr
        assert "Backed up 3 tickets and 6 attachment files" in said
        assert "Restored 3 tickets and 6 attachment files" in restored.stdout
        after = dump(new)
        assert after == before
        assert len(after["events"]) >= 3 * 4  # created, a comment, two files each
        assert all(a["content"] == a["sha256"] for a in after["attachments"])
        names = {a["name"] for a in after["attachments"]}
        assert {"错误截图0.png", "邮件附件：应用日志.txt"} <= names
        assert (new.data_dir / "secret_key").read_bytes() == (
            desk.data_dir / "secret_key").read_bytes()
        new.file_ticket("恢复后的第一张单")  # the numbering goes on where it was
        assert new.query("SELECT MAX(id) FROM tickets_ticket")[0][0] == int(
            before["tickets"][-1]["id"]) + 1

        again = run(new, "restore", str(archive))
        assert again.returncode == 1
        assert "already holds data" in again.stderr and "--force" in again.stderr
        assert "tickets: 4" in again.stderr  # and nothing was changed
        assert run(new, "restore", "--force", str(archive)).returncode == 0
        assert dump(new) == before


def count_tickets(desk: Desk) -> int:
    return int(desk.query("SELECT COUNT(*) FROM tickets_ticket")[0][0])


def test_a_backup_taken_while_tickets_are_filed_holds_each_of_them_whole(tmp_path: Path
                                                                          ) -> None:
    archive = tmp_path / "running.tar"
    stop = tmp_path / "stop"
    with throwaway_desk(tmp_path) as desk, fresh_desk(tmp_path / "new") as new:
        writer = subprocess.Popen([sys.executable, "-c", KEEP_FILING, str(stop)],
                                  env=desk.env, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: count_tickets(desk) >= 20, timeout=120, what="20 tickets filed")
            filed_before = count_tickets(desk)
            database_file_copy = tmp_path / "copied.sqlite3"
            if not desk.on_postgres:
                shutil.copy(desk.data_dir / "opsdesk.sqlite3", database_file_copy)
            desk.opsdesk("backup", str(archive))
            filed_by_its_end = count_tickets(desk)
            wait_for(lambda: count_tickets(desk) > filed_by_its_end, timeout=60,
                     what="more tickets after the backup")
        finally:
            stop.touch()
            _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors.decode()

        new.opsdesk("restore", str(archive))

        restored = count_tickets(new)
        assert filed_before < restored <= filed_by_its_end  # taken while tickets were filed
        assert new.query("""
            SELECT COUNT(*) FROM tickets_ticket t WHERE NOT EXISTS (
                SELECT 1 FROM tickets_timelineevent e
                WHERE e.ticket_id = t.id AND e.kind = 'created')""")[0][0] == 0
        attachments = new.query("SELECT file, sha256 FROM tickets_attachment")
        assert len(attachments) >= restored - 1  # the last ticket may still await its file
        for name, sha256 in attachments:
            content = (new.data_dir / "media" / name).read_bytes()
            assert hashlib.sha256(content).hexdigest() == sha256
        if not desk.on_postgres:
            # What a copy of the database file alone would have kept: nothing since the last
            # checkpoint, while the backup has every ticket committed before it.
            with sqlite3.connect(database_file_copy) as copied:
                (kept,) = copied.execute("SELECT COUNT(*) FROM tickets_ticket").fetchone()
            assert kept < filed_before


# --- refusals, before anything changes (in-process, on archives made by hand) --------------


def make_archive(path: Path, members: dict[str, bytes], **manifest: Any) -> Path:
    """An archive as opsdesk writes it, with ``manifest`` overriding what it says."""
    database = "database/opsdesk.pgdump" if connection.vendor == "postgresql" else (
        "database/opsdesk.sqlite3")
    written = {"format": FORMAT, "format_version": FORMAT_VERSION, "opsdesk_version": "0.1.0",
               "created_at": "2026-12-05T08:00:00+00:00", "vendor": connection.vendor,
               "database": database, "migrations": {}, "secret_key": "included",
               "tickets": 0, "files": make_entries(members), **manifest}
    with tarfile.open(path, "w") as tar:
        for name, content in [("manifest.json", json.dumps(written).encode()),
                              *members.items()]:
            member = tarfile.TarInfo(name)
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    return path


def database_member() -> str:
    return "database/opsdesk.pgdump" if connection.vendor == "postgresql" else (
        "database/opsdesk.sqlite3")


@pytest.fixture
def desk_with_a_ticket(people: Any, settings: Any, tmp_path: Path) -> Ticket:
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    settings.DATA_DIR = tmp_path / "data"
    return TicketFactory(by=people["submitter"])  # type: ignore[no-any-return]


def nothing_changed(ticket: Ticket, tmp_path: Path) -> bool:
    leftovers = [p for p in (tmp_path / "data").glob(".opsdesk-restore-*")]
    return Ticket.objects.filter(pk=ticket.pk).exists() and not leftovers


@pytest.mark.django_db
def test_an_archive_of_the_other_database_is_refused(desk_with_a_ticket, tmp_path):
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    archive = make_archive(tmp_path / "a.tar", {database_member(): b"db"}, vendor=other)

    with pytest.raises(BackupError, match="this desk runs on"):
        restore(archive, force=True)

    assert nothing_changed(desk_with_a_ticket, tmp_path)


@pytest.mark.django_db
def test_an_archive_of_a_newer_schema_is_refused(desk_with_a_ticket, tmp_path):
    newer = {"tickets": ["0001_initial", "0099_from_the_future"]}
    archive = make_archive(tmp_path / "a.tar", {database_member(): b"db"}, migrations=newer,
                           opsdesk_version="9.0.0")

    with pytest.raises(BackupError, match=r"newer schema.*9\.0\.0.*tickets\.0099_from_the_future"):
        restore(archive, force=True)

    assert nothing_changed(desk_with_a_ticket, tmp_path)


@pytest.mark.django_db
def test_an_archive_of_a_newer_format_is_refused(desk_with_a_ticket, tmp_path):
    archive = make_archive(tmp_path / "a.tar", {database_member(): b"db"},
                           format_version=FORMAT_VERSION + 1)

    with pytest.raises(BackupError, match="newer opsdesk"):
        restore(archive, force=True)

    assert nothing_changed(desk_with_a_ticket, tmp_path)


@pytest.mark.django_db
def test_a_desk_that_holds_data_is_not_replaced_without_force(desk_with_a_ticket, tmp_path):
    archive = make_archive(tmp_path / "a.tar", {database_member(): b"db"})

    with pytest.raises(BackupError, match=r"already holds data \(tickets: 1.*--force"):
        restore(archive)

    assert nothing_changed(desk_with_a_ticket, tmp_path)


@pytest.mark.django_db
@pytest.mark.parametrize("damage", ["changed byte", "missing file", "unlisted file",
                                    "path out of the folder", "not a tar file"])
def test_a_damaged_archive_is_refused_and_nothing_changes(desk_with_a_ticket, tmp_path, damage):
    files = {database_member(): b"db", "media/attachments/2026/12/abc": "截图".encode()}
    archive = make_archive(tmp_path / "a.tar", files)
    if damage == "changed byte":
        raw = archive.read_bytes()
        archive.write_bytes(raw.replace("截图".encode(), "戳图".encode()))
    elif damage == "missing file":
        make_archive(archive, {database_member(): b"db"}, files=make_entries(files))
    elif damage == "unlisted file":
        make_archive(archive, {**files, "media/extra": b"x"}, files=make_entries(files))
    elif damage == "path out of the folder":
        make_archive(archive, {**files, "../../outside": b"x"})
    else:
        archive.write_bytes(b"PK\x03\x04 a zip, say")
    expected = {"changed byte": "does not match its checksum", "missing file": "incomplete",
                "unlisted file": "does not list", "path out of the folder": "named '../../",
                "not a tar file": "not a readable archive"}[damage]

    with pytest.raises(BackupError, match=expected):
        restore(archive, force=True)

    assert nothing_changed(desk_with_a_ticket, tmp_path)
    assert not (tmp_path / "outside").exists()


def make_entries(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [{"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in files.items()]


def test_a_backup_never_overwrites_an_archive_nor_guesses_a_name(tmp_path):
    existing = tmp_path / "monday.tar"
    existing.write_bytes(b"Monday's backup")

    with pytest.raises(BackupError, match="never overwrites"):
        back_up(existing)
    with pytest.raises(BackupError, match=r"ends in \.tar"):
        back_up(tmp_path / "backup.zip")
    with pytest.raises(BackupError, match="no folder"):
        back_up(tmp_path / "missing" / "b.tar")

    assert existing.read_bytes() == b"Monday's backup"


# Committed for real (the backup reads through a connection of its own); serialized_rollback
# puts back the data migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_that_fails_leaves_no_archive_behind(people, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    ticket = TicketFactory(by=people["submitter"])
    services.add_attachment(ticket_id=ticket.pk, by=people["submitter"], name="巡检.txt",
                            content=b"disk 93%")
    measure = backup._measure

    def measured_then_changed(path: Path) -> tuple[int, str]:
        size, digest = measure(path)
        if "attachments" in str(path):
            path.write_bytes(b"disk 99%")
        return size, digest

    monkeypatch.setattr(backup, "_measure", measured_then_changed)
    folder = tmp_path / "backups"
    folder.mkdir()

    with pytest.raises(BackupError, match="changed while it was being backed up"):
        back_up(folder / "b.tar")

    assert list(folder.iterdir()) == []  # neither an archive, nor a partial one, nor its work
