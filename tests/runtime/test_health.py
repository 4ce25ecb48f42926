"""/healthz says the process answers, without the database; /readyz says whether the desk can
serve: its database answers, every migration of this version is applied, and a worker said
it was alive within a minute. Both answer JSON, to anyone, by whatever host name or address
they are called, and say nothing of the database's own words."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client

from opsdesk.runtime import recovery
from tests.runtime.desk import Desk, free_port, throwaway_desk, wait_for

START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def client() -> Client:
    return Client()


def test_alive_answers_without_the_database(client):
    answer = client.get("/healthz")  # without the django_db mark, a query would raise
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"status": "alive"}
    assert answer["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_probes_answer_by_address_and_over_plain_http_in_production(client, settings):
    """A container's HEALTHCHECK calls 127.0.0.1, Kubernetes the pod's IP, both over HTTP:
    neither is an allowed host nor HTTPS, and neither must be refused or redirected."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["opsdesk.example.com"]
    assert client.get("/accounts/login/", HTTP_HOST="10.2.3.4:8000").status_code == 400
    assert client.get("/healthz", HTTP_HOST="10.2.3.4:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.2.3.4:8000").status_code == 503  # no worker
    assert client.get("/metrics", HTTP_HOST="10.2.3.4:8000").status_code == 403  # not open


@pytest.mark.django_db
def test_ready_once_a_worker_beats_and_not_after_it_fell_silent_for_a_minute(client):
    with time_machine.travel(START, tick=False) as traveller:
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.json() == {"status": "not_ready", "checks": {
            "database": {"ok": True}, "migrations": {"ok": True, "unapplied": 0},
            "worker": {"ok": False, "heartbeat_age_seconds": None}}}

        recovery.beat("worker-1", started_at=START)
        traveller.shift(timedelta(seconds=45))
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {
            "database": {"ok": True}, "migrations": {"ok": True, "unapplied": 0},
            "worker": {"ok": True, "heartbeat_age_seconds": 45}}}

        traveller.shift(timedelta(seconds=16))
        silent = client.get("/readyz")
        assert silent.status_code == 503
        assert silent.json()["checks"]["worker"] == {"ok": False, "heartbeat_age_seconds": 61}


@pytest.mark.django_db
def test_not_ready_while_a_migration_of_this_version_is_not_applied(client):
    recovery.beat("worker-1", started_at=START)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'runtime'")
        forgotten = cursor.rowcount
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"] == {"ok": False, "unapplied": forgotten}
    assert answer.json()["checks"]["worker"]["ok"] is True


@pytest.mark.django_db
def test_a_probe_costs_three_small_queries(client, django_assert_max_num_queries):
    client.get("/readyz")  # the migrations on disk are read once per process
    with django_assert_max_num_queries(3):
        client.get("/readyz")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_only_reading_is_allowed(client, path):
    answer = client.post(path, {})
    assert answer.status_code == 405
    assert answer["Allow"] == "GET, HEAD"


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())
    except OSError:  # not listening yet
        return 0, None


def test_a_server_without_its_database_is_alive_but_not_ready_and_keeps_its_secrets(tmp_path):
    desk = Desk(tmp_path / "desk")
    desk.data_dir.mkdir()
    port = free_port()
    # Nothing listens on port 9: PostgreSQL cannot be reached.
    desk.database_url = "postgres://opsdesk:pw-never-shown-42@127.0.0.1:9/opsdesk"
    try:
        desk.start("serve", "--port", str(port), "--workers", "1", log="serve.log")
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz")[0] == 200, timeout=60,
                 what="the web server")
        status, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert (status, body) == (503, {"status": "not_ready",
                                        "checks": {"database": {"ok": False}}})
    finally:
        desk.stop()
    assert "pw-never-shown-42" not in desk.log("serve.log")


def test_a_fresh_desk_is_ready_once_its_worker_runs(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        port = free_port()
        desk.start("serve", "--port", str(port), "--workers", "1", log="serve.log")
        url = f"http://127.0.0.1:{port}/readyz"
        wait_for(lambda: _get(url)[0] == 503, timeout=60, what="the web server")
        assert _get(url)[1]["checks"]["worker"] == {"ok": False, "heartbeat_age_seconds": None}
        desk.start("worker", log="worker.log")
        wait_for(lambda: _get(url)[0] == 200, timeout=60, what="the worker's first heartbeat")
