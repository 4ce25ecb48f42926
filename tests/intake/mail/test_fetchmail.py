"""``opsdesk fetchmail`` against a real IMAP server: Debian's dovecot, started by the tests on a
free 127.0.0.1 port with a temporary configuration (maildir under a temporary folder, any
user name with one static password). The test APPENDs messages, then fetches them."""

from __future__ import annotations

import grp
import imaplib
import io
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opsdesk.intake.mail import imap
from opsdesk.intake.mail import services as mail
from opsdesk.intake.models import InboundMessage, InboundStatus, MailMessage
from opsdesk.runtime.periodic import default_jobs
from opsdesk.tickets.models import Ticket
from tests.intake.mail import corpus, hostile

PASSWORD = "imap-secret-8d1f"


def find_dovecot() -> str:
    """The binary, or a skip saying how to get it (a failure on CI, where it must be there)."""
    path = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/bin")
    if path and Path("/usr/lib/dovecot/imap").exists():
        return path
    reason = ("the real IMAP server is not installed (Debian packages dovecot-imapd dovecot-core;"
              " run scripts/ensure_test_tools.sh)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = opsdesk-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    port: int
    log_path: Path

    def account(self, **options: Any) -> imap.ImapAccount:
        """A fresh mailbox (dovecot accepts any user name) and its settings for opsdesk."""
        return imap.ImapAccount(host="127.0.0.1", port=self.port,
                                user=f"desk{uuid.uuid4().hex[:8]}", password=PASSWORD,
                                security="none", timeout=10, **options)

    def client(self, account: imap.ImapAccount) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(account.user, PASSWORD)
        return client

    def append(self, account: imap.ImapAccount, *messages: bytes) -> None:
        client = self.client(account)
        for raw in messages:
            status, _ = client.append("INBOX", None, None, raw)
            assert status == "OK"
        client.logout()

    def unseen(self, account: imap.ImapAccount, folder: str = "INBOX") -> int:
        return self._count(account, folder, "UNSEEN")

    def count(self, account: imap.ImapAccount, folder: str = "INBOX") -> int:
        return self._count(account, folder, "ALL")

    def _count(self, account: imap.ImapAccount, folder: str, criteria: str) -> int:
        client = self.client(account)
        client.select(folder, readonly=True)
        _status, data = client.search(None, criteria)
        client.logout()
        return len(data[0].split())


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    binary = find_dovecot()
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))  # short: dovecot's sockets live in it
    root.chmod(0o755)
    (root / "mail").mkdir(mode=0o777)
    (root / "mail").chmod(0o777)
    if os.geteuid() == 0:  # dovecot will not give mail access to root
        user, group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    else:
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, user=user, group=group,
                                    password=PASSWORD))
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    server = Dovecot(port=port, log_path=root / "dovecot.log")
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = server.log_path.read_text() if server.log_path.exists() else ""
                    pytest.fail(f"dovecot did not start: {log[-2000:]}")
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def configure(settings: Any) -> Any:
    def apply(account: imap.ImapAccount) -> None:
        settings.OPSDESK_IMAP_HOST = account.host
        settings.OPSDESK_IMAP_PORT = account.port
        settings.OPSDESK_IMAP_USER = account.user
        settings.OPSDESK_IMAP_PASSWORD = account.password
        settings.OPSDESK_IMAP_SECURITY = account.security
        settings.OPSDESK_IMAP_FOLDER = account.folder
        settings.OPSDESK_IMAP_PROCESSED_FOLDER = account.processed_folder
        settings.OPSDESK_MAIL_ALLOWED_DOMAINS = ["*"]

    return apply


def fetchmail() -> str:
    out = io.StringIO()
    call_command("fetchmail", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_fetched_mail_becomes_tickets_once_and_is_marked_seen(
    dovecot: Dovecot, configure: Any
) -> None:
    account = dovecot.account()
    configure(account)
    problems = [corpus.outlook_gbk(), corpus.big5_taiwan(), corpus.apple_rfc2231()]
    dovecot.append(account, *(p.raw for p in problems), corpus.bounce_dsn().raw)

    assert "4" in fetchmail()

    titles = set(Ticket.objects.values_list("title", flat=True))
    assert titles == {p.subject for p in problems}
    outlook = Ticket.objects.get(title=problems[0].subject)
    assert outlook.description == problems[0].text
    assert [a.name for a in outlook.attachments.all()] == ["华东区订单报表.xlsx"]
    assert dovecot.unseen(account) == 0 and dovecot.count(account) == 4

    dovecot.append(account, corpus.netease_utf8_qp().raw)
    fetchmail()
    assert Ticket.objects.count() == 4  # only the new message was fetched


@pytest.mark.django_db
def test_mail_is_moved_to_the_processed_folder_when_one_is_set(
    dovecot: Dovecot, configure: Any
) -> None:
    account = dovecot.account(processed_folder="opsdesk-done")
    configure(account)
    dovecot.append(account, corpus.foxmail_gbk().raw, corpus.qq_gb18030().raw)

    fetchmail()

    assert Ticket.objects.count() == 2
    assert dovecot.count(account) == 0
    assert dovecot.count(account, "opsdesk-done") == 2


@pytest.mark.django_db
def test_a_crash_between_commit_and_mark_loses_and_duplicates_nothing(
    dovecot: Dovecot, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = dovecot.account()
    configure(account)
    dovecot.append(account, corpus.outlook_gbk().raw)

    def crash(*args: Any) -> None:
        raise ConnectionResetError("the worker died here")

    monkeypatch.setattr(imap, "mark_done", crash)
    with pytest.raises(CommandError):
        fetchmail()
    assert Ticket.objects.count() == 1  # committed before the crash
    assert dovecot.unseen(account) == 1  # not marked: the next poll sees it again

    monkeypatch.undo()
    fetchmail()

    assert Ticket.objects.count() == 1
    assert dovecot.unseen(account) == 0
    statuses = list(MailMessage.objects.values_list("inbound__status", flat=True))
    assert statuses == [InboundStatus.PROCESSED]  # one record; the refetch was a duplicate


@pytest.mark.django_db
def test_a_broken_message_between_good_ones_never_stops_the_poll(
    dovecot: Dovecot, configure: Any
) -> None:
    account = dovecot.account()
    configure(account)
    first, last = corpus.outlook_gbk(), corpus.big5_taiwan()
    unsplit, bomb = hostile.multipart_without_boundary(), hostile.parser_bomb()
    dovecot.append(account, first.raw, unsplit.raw, bomb.raw, last.raw)

    assert "4 messages" in fetchmail()

    descriptions = dict(Ticket.objects.values_list("title", "description"))
    assert descriptions == {first.subject: first.text, unsplit.subject: unsplit.text,
                            last.subject: last.text}
    quarantined = InboundMessage.objects.get(status=InboundStatus.QUARANTINED)
    assert bytes(quarantined.body) == bomb.raw and "RecursionError" in quarantined.error
    assert dovecot.unseen(account) == 0  # all four marked, the quarantined one too

    stored = InboundMessage.objects.count()
    assert "0 messages" in fetchmail()  # the next poll does not see it again
    assert InboundMessage.objects.count() == stored


@pytest.mark.django_db
def test_an_oversized_message_keeps_its_head_and_the_poll_goes_on(
    dovecot: Dovecot, configure: Any, settings: Any
) -> None:
    account = dovecot.account(processed_folder="done")
    configure(account)
    settings.OPSDESK_MAIL_MAX_BYTES = 200_000
    large = corpus.plain(sender="ops@corp.example", subject="巨大的日志", text="见附件",
                         files={"full.log": bytes(range(256)) * 1200})
    dovecot.append(account, large.raw, corpus.foxmail_gbk().raw)

    fetchmail()

    [kept] = InboundMessage.objects.filter(status=InboundStatus.QUARANTINED)
    assert bytes(kept.body) == large.raw[:mail.HEAD_BYTES]
    assert str(len(large.raw)) in kept.error and "200000" in kept.error
    assert Ticket.objects.get().title == corpus.foxmail_gbk().subject
    assert dovecot.count(account) == 0 and dovecot.count(account, "done") == 2


@pytest.mark.django_db
def test_a_message_the_server_will_not_hand_over_waits_for_the_next_poll(
    dovecot: Dovecot, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = dovecot.account()
    configure(account)
    dovecot.append(account, corpus.foxmail_gbk().raw, corpus.qq_gb18030().raw)
    real_uid = imaplib.IMAP4.uid

    def damaged_first(client: imaplib.IMAP4, command: str, *args: Any) -> Any:
        if command == "FETCH" and args[0] == "1":
            return "NO", [b"[SERVERBUG] Internal error occurred."]
        return real_uid(client, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", damaged_first)
    assert "unreadable 1" in fetchmail()
    assert Ticket.objects.get().title == corpus.qq_gb18030().subject  # the next one went on
    assert dovecot.unseen(account) == 1

    monkeypatch.undo()
    fetchmail()
    assert Ticket.objects.count() == 2 and dovecot.unseen(account) == 0


@pytest.mark.django_db
def test_a_wrong_password_is_refused_and_never_logged(
    dovecot: Dovecot, configure: Any, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    account = dovecot.account()
    configure(account)
    settings.OPSDESK_IMAP_PASSWORD = "wrong-password-3c9a"
    dovecot.append(account, corpus.foxmail_gbk().raw)

    with caplog.at_level(logging.INFO), pytest.raises(CommandError) as refused:
        fetchmail()

    assert "wrong-password-3c9a" not in caplog.text + str(refused.value)
    assert account.user in caplog.text
    assert not Ticket.objects.exists() and dovecot.unseen(account) == 1


def test_the_worker_polls_only_when_a_mailbox_is_configured(settings: Any) -> None:
    settings.OPSDESK_IMAP_HOST = ""
    assert "fetchmail" not in [job.name for job in default_jobs()]
    settings.OPSDESK_IMAP_HOST = "imap.corp.example"
    settings.OPSDESK_IMAP_POLL_SECONDS = 45
    [job] = [job for job in default_jobs() if job.name == "fetchmail"]
    assert job.every_seconds == 45


def test_fetchmail_without_a_mailbox_says_what_to_set(settings: Any) -> None:
    settings.OPSDESK_IMAP_HOST = ""
    with pytest.raises(CommandError, match="OPSDESK_IMAP_HOST"):
        fetchmail()
