"""Real receivers for notifications: an SMTP server (aiosmtpd) and an HTTP server that plays
every chat robot and webhook, both on 127.0.0.1; and tasks that run at once."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.lark import NotifyLark
from apprise.plugins.slack import NotifySlack
from apprise.plugins.wecombot import NotifyWeComBot
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify.models import Delivery
from opsdesk.routing.models import DutyShift
from opsdesk.tickets.models import Ticket
from tests.factories import TicketFactory, payment_module
from tests.notify.talk import START, Step


def free_port() -> int:
    """A port nothing listens on (the kernel just handed it out and took it back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(autouse=True)
def _tasks_run_now(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class _Handler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []


def subject(message: EmailMessage) -> str:
    # Django folds a long encoded subject onto the next line; Python's parser keeps the fold's
    # leading space, mail clients do not.
    return str(message["Subject"]).strip()


@dataclass
class Mailbox:
    messages: list[EmailMessage]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield Mailbox(handler.messages)
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Status codes to answer with, in turn; 200 once they run out.
    answers: list[int] = field(default_factory=list)


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Received(self.path, dict(self.headers), json.loads(raw)))
            status = receiver.answers.pop(0) if receiver.answers else 200
            # Each robot's idea of success: Slack says "ok", the Chinese robots a zero code.
            answer = b"ok" if self.path.startswith("/slack") else b'{"errcode":0,"code":0}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that records every POST."""
    box = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(box))
    box.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits for it at the end of every test.
    serve = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    serve.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def robots_at(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    """Apprise's robot plugins, with their public endpoints replaced by the local receiver:
    the payload each builds is the real one, only the server differs."""
    base = receiver.url
    monkeypatch.setattr(NotifyDingTalk, "notify_url", base + "/dingtalk?access_token={token}")
    monkeypatch.setattr(NotifyWeComBot, "notify_url", base + "/wecom?key={key}")
    monkeypatch.setattr(NotifyFeishu, "notify_url", base + "/feishu/{token}/")
    monkeypatch.setattr(NotifyLark, "notify_url", base + "/lark/")
    monkeypatch.setattr(NotifySlack, "webhook_url", base + "/slack")
    return receiver


@pytest.fixture
def readers(make_user: Callable[..., User]) -> dict[str, User]:
    """Two engineers who read in different languages and live in different zones."""
    return {
        "zh": make_user(Role.OWNER, display_name="王磊", language="zh-hans",
                        time_zone="Asia/Shanghai", email="wanglei@example.com"),
        "en": make_user(Role.OWNER, display_name="Alice", language="en",
                        time_zone="Europe/London", email="alice@example.com"),
    }


@pytest.fixture
def ticket(people: dict[str, User]) -> Ticket:
    payment_module(people["owner"])
    t = TicketFactory(by=people["submitter"], title="支付回调超时")
    # Filing it notified its assignee or the duty engineer (routing); these tests start clean.
    Delivery.objects.all().delete()
    DBTaskResult.objects.filter(task_path__startswith="opsdesk.notify.tasks.deliver").delete()
    Ticket.objects.filter(pk=t.pk).update(deadline_at="2026-12-01T10:00:00Z")
    t.refresh_from_db()
    return t


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run ``fn`` in a transaction and then its on-commit callbacks (which send, here)."""

    def run(fn: Callable[..., Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            return fn(**kwargs)

    return run


@pytest.fixture
def cast(make_user: Callable[..., User]) -> dict[str, User]:
    """A zh-Hans submitter in Shanghai, an English module owner in London, the duty engineer
    on shift and the department head; the payment module."""
    people = {
        "submitter": make_user(Role.SUBMITTER, display_name="孙丽", language="zh-hans",
                               time_zone="Asia/Shanghai", email="sunli@corp.example"),
        "owner": make_user(Role.OWNER, display_name="Alice Owner", language="en",
                           time_zone="Europe/London", email="alice@corp.example"),
        "duty": make_user(Role.DUTY, display_name="张伟", language="zh-hans",
                          email="zhangwei@corp.example"),
        "head": make_user(Role.HEAD, display_name="刘洋", language="zh-hans",
                          email="liuyang@corp.example"),
        "developer": make_user(Role.DEVELOPER, display_name="Bob Dev", language="en",
                               email="bob@corp.example"),
    }
    payment_module(people["owner"])
    DutyShift.objects.create(starts_at=START - timedelta(hours=4),
                             ends_at=START + timedelta(hours=12), engineer=people["duty"])
    return people


@pytest.fixture
def clock(settings: Any) -> Iterator[time_machine.Traveller]:
    """Time stands at START; links are made for the test client's host."""
    settings.OPSDESK_BASE_URL = "http://testserver"
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def step(django_capture_on_commit_callbacks: Any) -> Step:
    """Run one request or service call, then what its commit hands to the worker (sending)."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
