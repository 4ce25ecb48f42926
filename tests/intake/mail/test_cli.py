"""``opsdesk mailgate`` as a mail server runs it: a separate process with the message on its
standard input, answering with sysexits codes; and ``--batch`` over a folder and an mbox."""

from __future__ import annotations

import mailbox
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from opsdesk.intake.mail.parsing import parse
from tests.intake.mail import corpus

OPSDESK = str(Path(sys.executable).with_name("opsdesk"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh SQLite installation, migrated, that the commands below share."""
    folder = tmp_path_factory.mktemp("opsdesk-data")
    subprocess.run([OPSDESK, "migrate", "-v", "0"], env=env(folder), check=True, timeout=300)
    return folder


def env(folder: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "OPSDESK_DATA_DIR": str(folder), "OPSDESK_DATABASE_URL": "",
            "OPSDESK_MAIL_ALLOWED_DOMAINS": "*", "OPSDESK_LOG_LEVEL": "WARNING", **extra}


def mailgate(folder: Path, *args: str, stdin: bytes = b"", **extra: str
             ) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([OPSDESK, "mailgate", *args], input=stdin, env=env(folder, **extra),
                               capture_output=True, timeout=120)
    return subprocess.CompletedProcess(completed.args, completed.returncode,
                                       completed.stdout.decode(), completed.stderr.decode())


def test_a_piped_message_is_stored_and_answered_zero(data_dir: Path) -> None:
    done = mailgate(data_dir, stdin=corpus.outlook_gbk().raw)
    assert done.returncode == 0, done.stderr
    assert "processed" in done.stdout and "OPS-" in done.stdout


def test_a_message_mail_cannot_use_is_still_accepted_and_quarantined(data_dir: Path) -> None:
    done = mailgate(data_dir, stdin=corpus.qq_gb18030().raw, OPSDESK_MAIL_ALLOWED_DOMAINS="")
    assert done.returncode == 0
    assert "quarantined" in done.stdout


def test_refusals_tell_the_mail_server_why(data_dir: Path) -> None:
    empty = mailgate(data_dir, stdin=b"\r\n")
    too_large = mailgate(data_dir, stdin=corpus.outlook_gbk().raw, OPSDESK_MAIL_MAX_BYTES="100")
    unreachable = mailgate(data_dir, stdin=corpus.foxmail_gbk().raw, OPSDESK_DATABASE_URL=(
        "postgres://nobody@127.0.0.1:1/none"))

    assert (empty.returncode, too_large.returncode) == (65, 65)  # bounce, naming the problem
    assert "empty" in empty.stderr.lower() or "空" in empty.stderr
    assert "0.1 KB" in too_large.stderr  # the limit in KB/MB, never bytes
    assert unreachable.returncode == 75, unreachable.stderr  # try again later


def test_batch_import_of_a_folder_and_an_mbox(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "maildir" / "cur"
    folder.mkdir(parents=True)
    problems = list(corpus.new_problems().values())
    for number, built in enumerate(problems):
        (folder / f"{number}.eml").write_bytes(built.raw)
    box = mailbox.mbox(tmp_path / "archive.mbox")
    for built in (corpus.netease_utf8_qp(), corpus.apple_rfc2231(), corpus.bounce_dsn()):
        box.add(built.raw)
    box.close()

    done = mailgate(data_dir, "--batch", str(tmp_path / "maildir"), str(tmp_path / "archive.mbox"))

    assert done.returncode == 0, done.stderr
    total = len(problems) + 3
    assert f"{total} " in done.stdout and f"processed {total}" in done.stdout


def test_parallel_batch_import_keeps_each_conversation_in_order(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    for number in range(12):
        opened = corpus.plain(sender="wangfang@corp.example", subject=f"问题 {number}",
                              text=f"第 {number} 个问题", message_id=f"<p{number}@corp.example>")
        answer = corpus.plain(sender="wangfang@corp.example", subject=f"Re: 问题 {number}",
                              text="补充信息", references=f"<p{number}@corp.example>")
        (folder / f"{number:03d}a.eml").write_bytes(opened.raw)
        (folder / f"{number:03d}b.eml").write_bytes(answer.raw)
    with sqlite3.connect(data_dir / "opsdesk.sqlite3") as db:
        tickets_before = db.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]

    done = mailgate(data_dir, "--batch", str(folder), "--jobs", "3")

    assert done.returncode == 0, done.stderr
    with sqlite3.connect(data_dir / "opsdesk.sqlite3") as db:
        tickets = db.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        threaded = db.execute(
            "SELECT count(*) FROM tickets_comment c JOIN tickets_ticket t ON t.id = c.ticket_id "
            "WHERE c.body = '补充信息' AND t.title LIKE '问题 %'").fetchone()[0]
    assert tickets - tickets_before == 12
    assert threaded == 12  # every answer on its own problem's ticket, none a new ticket


def test_batch_import_quarantines_an_oversized_message_by_its_head_and_goes_on(
    data_dir: Path, tmp_path: Path
) -> None:
    def large(subject: str) -> bytes:
        return corpus.plain(sender="ops@corp.example", subject=subject, text="见附件",
                            files={"dump.bin": bytes(range(256)) * 400}).raw

    folder = tmp_path / "export"
    folder.mkdir()
    files = [corpus.foxmail_gbk().raw, large("巨大的附件一"), corpus.qq_gb18030().raw]
    names = ["0.eml", os.fsdecode(b"1-\xff.eml"), "2.eml"]  # a name that is not UTF-8
    for name, raw in zip(names, files, strict=True):
        (folder / name).write_bytes(raw)
    box = mailbox.mbox(tmp_path / "archive.mbox")
    for raw in (corpus.netease_utf8_qp().raw, large("巨大的附件二"), corpus.big5_taiwan().raw):
        box.add(raw)
    box.close()

    done = mailgate(data_dir, "--batch", str(folder), str(tmp_path / "archive.mbox"),
                    OPSDESK_MAIL_MAX_BYTES="100000")

    assert done.returncode == 0, done.stderr
    assert "processed 4" in done.stdout and "quarantined 2" in done.stdout
    with sqlite3.connect(data_dir / "opsdesk.sqlite3") as db:
        kept = db.execute("SELECT body, error FROM intake_inboundmessage WHERE status = "
                          "'quarantined' ORDER BY id DESC LIMIT 2").fetchall()
    (from_mbox, mbox_error), (from_folder, folder_error) = kept
    assert from_folder == files[1][:65536]
    assert str(len(files[1])) in folder_error and "1-\\udcff.eml" in folder_error
    assert len(from_mbox) == 65536 and parse(from_mbox).subject == "巨大的附件二"
    assert "archive.mbox #2" in mbox_error and "100000" in mbox_error


def test_an_empty_file_in_a_parallel_import_is_one_more_message(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "with-empty"
    folder.mkdir()
    (folder / "000.eml").write_bytes(b"")  # the worker that gets it must not take it as the end
    for number in range(1, 11):
        problem = corpus.plain(sender="lisi@corp.example", subject=f"空文件之后 {number}",
                               text="内容", message_id=f"<after-empty-{number}@corp.example>")
        (folder / f"{number:03d}.eml").write_bytes(problem.raw)

    done = mailgate(data_dir, "--batch", str(folder), "--jobs", "2")

    assert done.returncode == 0, done.stderr
    assert "11 " in done.stdout and "processed 10" in done.stdout, done.stdout
    with sqlite3.connect(data_dir / "opsdesk.sqlite3") as db:
        opened = db.execute("SELECT count(*) FROM tickets_ticket WHERE title LIKE '空文件之后 %'"
                            ).fetchone()[0]
    assert opened == 10
