"""Uploads over the attachment limit are refused before they are read: on the ticket page, with
the reason on the attachment form; and by the real server (Granian), whose process does not
grow by what a 200 MB upload would have cost it."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from opsdesk.tickets.models import Attachment
from tests.factories import ticket_in
from tests.web.conftest import text

OPSDESK = str(Path(sys.executable).with_name("opsdesk"))


def readable(message: str) -> str:
    """Django puts a non-breaking space between a size and its unit."""
    return message.replace("\xa0", " ")


def signed_in_with_csrf(user, tmp_path, settings, key: str) -> tuple[Client, str]:
    """A browser that must send the page's CSRF token, and the token it read from the page."""
    settings.MEDIA_ROOT = tmp_path
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.get(f"/tickets/{key}/")
    return client, client.cookies["csrftoken"].value


def test_a_file_over_the_limit_is_refused_on_the_attachment_form(people, settings, tmp_path):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 10 * 1024
    ticket = ticket_in("analysing", people=people)
    client, token = signed_in_with_csrf(people["submitter"], tmp_path, settings, ticket.key)

    response = client.post(f"/tickets/{ticket.key}/attachments", {
        "csrfmiddlewaretoken": token,
        "file": SimpleUploadedFile("数据库慢查询.log", b"0" * (10 * 1024 + 1)),
    })

    assert response.status_code == 413
    page = readable(text(response))
    assert "数据库慢查询.log is larger than 10.0 KB" in page
    assert Attachment.objects.count() == 0
    assert list(tmp_path.rglob("*")) == []


def test_a_full_disk_is_explained_on_the_attachment_form(people, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "tests.tickets.test_attachments.FullDiskStorage"}}
    ticket = ticket_in("analysing", people=people)
    client, token = signed_in_with_csrf(people["owner"], tmp_path, settings, ticket.key)

    response = client.post(f"/tickets/{ticket.key}/attachments", {
        "csrfmiddlewaretoken": token, "file": SimpleUploadedFile("堆栈.txt", b"x" * 300_000),
    })

    assert response.status_code == 507
    assert "The disk that keeps files is full, so 堆栈.txt was not kept" in text(response)
    assert Attachment.objects.count() == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_upload_said_to_be_too_large_is_refused_on_the_form_unread(people, settings,
                                                                     tmp_path):
    ticket = ticket_in("analysing", people=people)
    client, token = signed_in_with_csrf(people["submitter"], tmp_path, settings, ticket.key)

    # The client's body holds 1 MB; reading past it is an error, so only an answer that stops
    # at the file (after the CSRF token) can pass.
    response = client.post(f"/tickets/{ticket.key}/attachments", {
        "csrfmiddlewaretoken": token, "file": SimpleUploadedFile("全量备份.tar", b"0" * (1 << 20)),
    }, CONTENT_LENGTH=str(200 << 20))

    assert response.status_code == 413
    assert "全量备份.tar is larger than 20.0 MB" in readable(text(response))
    assert Attachment.objects.count() == 0


@dataclass
class RealServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    token: str
    ticket_key: str

    def worker_peak_kb(self) -> int:
        """The largest resident size any of the server's workers has had (VmHWM)."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split()
        peaks = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        assert peaks, "no server worker found"
        return max(peaks)


def _opsdesk_env(folder: Path) -> dict[str, str]:
    return {**os.environ, "OPSDESK_DATA_DIR": str(folder), "OPSDESK_DATABASE_URL": "",
            "OPSDESK_LOG_LEVEL": "WARNING", "OPSDESK_DISPATCH": "inline"}


SETUP = """
from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.services import create_api_token, grant_roles
from opsdesk.tickets.services import create_ticket
user = User.objects.create_user("uploader", display_name="上传者")
grant_roles(user=user, roles=[Role.SUBMITTER])
ticket = create_ticket(by=user, title="导出报表失败", impact="few_users", urgency="low",
                       description="导出报表时失败", occurred_at="2024-12-02T09:30:00+08:00",
                       steps_to_reproduce="点击导出", error_message="500",
                       impact_scope="财务部", submitter_contact="分机 8021")
print("ready", ticket.key, create_api_token(user=user, name="upload-test")[1])
"""


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[RealServer]:
    """``opsdesk serve`` with one worker on a fresh SQLite data folder, a submitter's token and
    their ticket."""
    env = _opsdesk_env(tmp_path)
    subprocess.run([OPSDESK, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    said = subprocess.run([OPSDESK, "shell", "-c", SETUP], env=env, check=True, timeout=120,
                          capture_output=True, text=True).stdout
    key, token = said[said.index("ready "):].split()[1:3]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [OPSDESK, "serve", "--port", str(port), "--workers", "1"], env=env,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = RealServer(f"http://127.0.0.1:{port}", port, process, token, key)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(server.url + "/api/v1/ping", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def post_upload(server: RealServer, size: int) -> tuple[int, int]:
    """Send a multipart upload of ``size`` bytes to the ticket's attachments, a piece at a time,
    watching for an early answer; its status and how much of the body went out before it."""
    boundary = "opsdeskboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"core.dump\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    request = (
        f"POST /api/v1/tickets/{server.ticket_key}/attachments HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + size + len(tail)}\r\n\r\n"
    ).encode() + head
    piece = b"\0" * 65536
    answer, sent = b"", 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
        connection.sendall(request)
        try:
            while sent < size and not answer:
                if select.select([connection], [], [], 0)[0]:
                    answer = connection.recv(65536)
                    break
                connection.sendall(piece[:min(len(piece), size - sent)])
                sent += min(len(piece), size - sent)
            if not answer:
                connection.sendall(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while the body was still coming
        while b"\r\n" not in answer:
            more = connection.recv(65536)
            if not more:
                break
            answer += more
    return int(answer.split(b" ", 2)[1]), sent


def test_the_real_server_refuses_a_200_mb_upload_without_reading_it(real_server: RealServer):
    assert post_upload(real_server, 1000)[0] == 201  # warms the worker up on the same path
    peak_before = real_server.worker_peak_kb()

    status, sent = post_upload(real_server, 200 << 20)

    assert status == 413
    assert sent < 200 << 20  # answered before the body was all sent
    assert real_server.worker_peak_kb() - peak_before < 5 * 1024  # KB
