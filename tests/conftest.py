"""Shared fixtures: people for every role, modules, and API clients signed in as them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.roles import Role
from opsdesk.accounts.services import create_api_token
from tests.factories import ModuleFactory, UserFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A transactional test flushes the database when it ends and the flush brings back the
    # content types but not the data migrations' rows; the next test that restores them
    # (serialized_rollback) then fails on a duplicate, far from the test at fault.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get(
                "serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) needs serialized_rollback=True")


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _dispatch_inline(settings: Any) -> None:
    # Most tests look at a ticket right after filing it; the worker's dispatching is tested on
    # its own (tests/tickets/test_dispatch.py) and by the tests that start a real worker.
    settings.OPSDESK_DISPATCH = "inline"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 is deliberately slow; tests create people by the dozen and never crack them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Api:
    """A JSON client for /api/v1 authenticated with a user's token."""

    def __init__(self, user: User, language: str = "en") -> None:
        _token, raw = create_api_token(user=user, name="test")
        self.user = user
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE=language)

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        fn = getattr(self.client, method)
        url = "/api/v1" + path
        if body is None:
            return fn(url, params or None)
        return fn(url, body, content_type="application/json")

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, body: Any) -> Any:
        return self._call("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("patch", path, body)

    def read(self, key: str) -> dict[str, Any]:
        """The ticket as this user sees it (fails the test if they cannot)."""
        response = self.get(f"/tickets/{key}")
        assert response.status_code == 200, response.json()
        return response.json()

    def act(self, key: str, action: str, version: int | None = None, **fields: Any) -> Any:
        """Take a workflow action the way the UI does: with the version just read."""
        if version is None:
            version = self.read(key)["version"]
        body = {"action": action, "version": version, "fields": fields}
        return self.post(f"/tickets/{key}/transitions", body)

    def timeline(self, key: str) -> list[dict[str, Any]]:
        response = self.get(f"/tickets/{key}/timeline")
        assert response.status_code == 200, response.json()
        return response.json()


def requests_in_turn(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Let the live server's requests take turns (the test database may be one in-memory
    SQLite connection its threads share). Each answer is read and closed in its own server
    thread, as a WSGI server does: a download's file left open would be closed later by the
    garbage collector in whichever thread it ran, sending ``request_finished`` there, which
    closes that thread's database connection (once the test's own, in the middle of a
    transaction)."""
    httpd = live_server.thread.httpd
    app, lock = httpd.application, threading.Lock()

    def in_turn(environ: Any, start_response: Any) -> Any:
        with lock:
            answer = app(environ, start_response)
            try:
                return list(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()

    monkeypatch.setattr(httpd, "application", in_turn)
    return live_server


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(*roles: str, **kwargs: Any) -> User:
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "duty": make_user(Role.DUTY, display_name="张伟"),
        "owner": make_user(Role.OWNER, display_name="王磊"),
        "support": make_user(Role.SUPPORT, display_name="李娜"),
        "developer": make_user(Role.DEVELOPER, display_name="赵强"),
        "ops": make_user(Role.OPS, display_name="陈静"),
        "head": make_user(Role.HEAD, display_name="刘洋"),
        "submitter": make_user(Role.SUBMITTER, display_name="孙丽", department="运营部"),
        "other_submitter": make_user(Role.SUBMITTER, display_name="周杰"),
    }


@pytest.fixture
def payment(people: dict[str, User]) -> Module:
    return ModuleFactory(code="payment", name="支付模块", owner=people["owner"])


@pytest.fixture
def api(people: dict[str, User]) -> dict[str, Api]:
    return {role: Api(user) for role, user in people.items()}


@pytest.fixture
def browser_as(db: None) -> Callable[..., Client]:
    """A browser (Django's test client) signed in as ``user``, speaking ``language``
    (zh-Hans unless told)."""

    def sign_in(user: User, language: str = "zh-hans") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return sign_in
