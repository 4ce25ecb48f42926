"""A request waits for the database's write lock a bounded time, then answers 503 with
Retry-After (JSON under /api/, a page that reloads itself elsewhere), so a held lock never
ties up the web server: health checks and reads keep answering. A page that fails for any
other reason is opsdesk's own 500 page, in the reader's language."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time

import pytest
from django.db import OperationalError
from django.test import Client

from opsdesk.tickets import selectors
from tests.factories import report
from tests.runtime.desk import free_port, throwaway_desk, wait_for

BOUND = 1.0  # OPSDESK_REQUEST_LOCK_WAIT_SECONDS here (5 by default)


def _call(port: int, method: str, path: str, token: str = "", body: object = None):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body).encode() if body else None, headers)
    answer = conn.getresponse()
    return answer.status, answer.headers, answer.read(), time.monotonic() - started


def _up(port: int) -> bool:
    try:
        return _call(port, "GET", "/api/v1/ping")[0] == 200
    except OSError:
        return False


def test_a_held_write_lock_costs_a_quick_503_and_the_server_keeps_answering(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        if desk.on_postgres:
            pytest.skip("SQLite's write lock")
        token = desk.opsdesk("token", "create", "desk-submitter").split()[-1]
        port = free_port()
        desk.start("serve", "--port", str(port), log="serve.log",
                   env={"OPSDESK_REQUEST_LOCK_WAIT_SECONDS": str(BOUND)})
        wait_for(lambda: _up(port), timeout=60, what="the server")
        holder = sqlite3.connect(desk.data_dir / "opsdesk.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            answers = []
            filers = [threading.Thread(target=lambda: answers.append(_call(
                port, "POST", "/api/v1/tickets", token,
                report(title="锁住时的报告", impact="few_users", urgency="normal",
                       submitter_contact="分机 8021"))))
                for _ in range(4)]  # more than the server has threads
            for filer in filers:
                filer.start()
            pings = [_call(port, "GET", "/api/v1/ping") for _ in range(5)]
            reads = _call(port, "GET", "/api/v1/tickets", token)
            for filer in filers:
                filer.join()
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        assert all(status == 200 for status, *_ in pings)
        assert reads[0] == 200
        for status, headers, body, seconds in answers:
            assert status == 503 and json.loads(body)["code"] == "database_unavailable"
            assert int(headers["Retry-After"]) > 0 and seconds < BOUND * 4
        assert _call(port, "POST", "/api/v1/tickets", token, report(
            title="锁放开后的报告", impact="few_users", urgency="normal",
            submitter_contact="分机 8021"))[0] == 201


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", "请稍后再试"), ("en", "Try again in a moment")])
def test_a_page_whose_database_is_out_of_reach_says_to_try_again(
        people, monkeypatch, language, words):
    def unreachable(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(selectors, "list_tickets", unreachable)
    browser = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(people["duty"])

    page = browser.get("/tickets/")

    assert page.status_code == 503 and int(page["Retry-After"]) > 0
    assert words in page.content.decode()


@pytest.mark.django_db
def test_a_page_that_breaks_is_opsdesks_own_500_page(people, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "list_tickets", broken)
    browser = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    browser.force_login(people["duty"])

    page = browser.get("/tickets/")

    assert page.status_code == 500
    assert "出了点问题" in page.content.decode() and "Server Error" not in page.content.decode()
