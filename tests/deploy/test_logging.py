"""With OPSDESK_LOG_FORMAT=json every process writes one JSON object a line (time, level,
logger, message, exception, and the request's id and path during a request): the web server
(Granian's own lines too), the worker and commands. Plain lines stay the default. Whatever the
format, no configured secret is ever written."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

from tests.runtime.desk import Desk, free_port, throwaway_desk, wait_for

SECRETS = {"OPSDESK_SMTP_PASSWORD": "smtp-pass-Zq81x", "OPSDESK_IMAP_PASSWORD": "imap-pass-Kw20p",
           "OPSDESK_METRICS_TOKEN": "metrics-token-Hy62b-0123456789"}
# A command that logs, as a library would, an error carrying every secret it was configured with.
LEAK = ("import logging; from django.conf import settings as s; "
        "logging.getLogger('opsdesk.leak').error('login failed: %s %s %s %s', "
        "s.EMAIL_HOST_PASSWORD, s.OPSDESK_IMAP_PASSWORD, s.OPSDESK_METRICS_TOKEN, s.SECRET_KEY)")


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_every_process_logs_json_lines_and_never_a_secret(tmp_path):
    env = {"OPSDESK_LOG_FORMAT": "json", "OPSDESK_IMAP_HOST": "127.0.0.1",
           "OPSDESK_IMAP_PORT": str(free_port()), "OPSDESK_IMAP_SECURITY": "none",
           "OPSDESK_IMAP_USER": "desk", "OPSDESK_IMAP_POLL_SECONDS": "1", **SECRETS}
    with throwaway_desk(tmp_path) as desk:
        secret_key = (desk.data_dir / "secret_key").read_text().strip()
        port = free_port()
        desk.start("serve", "--port", str(port), "--workers", "1", log="serve.log", env=env)
        # The worker polls an IMAP server that is not there: a failure with its traceback.
        desk.start("worker", log="worker.log", env=env)
        wait_for(lambda: "fetchmail" in desk.log("worker.log"), timeout=60,
                 what="the worker's failed mail poll")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tickets/OPS-999999",
                                         headers={"X-Request-ID": "req-from-proxy-7"})
        wait_for(lambda: _status(request) == 401, timeout=60, what="the web server")
        wait_for(lambda: "req-from-proxy-7" in desk.log("serve.log"), timeout=10,
                 what="the request's log line")
        command = _command_log(desk, env)
        desk.stop()
        logs = {name: desk.log(name) for name in ("serve.log", "worker.log")}
    logs["command"] = command

    for name, text in logs.items():
        for secret in [*SECRETS.values(), secret_key]:
            assert secret not in text, (name, secret)
        assert _lines(text), name  # every line is a JSON object

    served = _lines(logs["serve.log"])
    assert {"_granian"} <= {line["logger"] for line in served}  # Granian's own lines too
    refused = next(line for line in served if line.get("request_id") == "req-from-proxy-7")
    assert refused["path"] == "/api/v1/tickets/OPS-999999"
    assert refused["level"] == "WARNING" and refused["logger"] == "django.request"
    assert refused["time"].endswith("+00:00")

    failed_poll = next(line for line in _lines(logs["worker.log"]) if "exception" in line)
    assert failed_poll["level"] == "ERROR"
    assert "Traceback" in failed_poll["exception"]
    assert "request_id" not in failed_poll

    leaked = _lines(logs["command"])[-1]
    assert leaked["logger"] == "opsdesk.leak"
    assert leaked["message"] == "login failed: **** **** **** ****"


def test_plain_lines_by_default_with_secrets_masked_too(tmp_path):
    with throwaway_desk(tmp_path) as desk:
        line = _command_log(desk, SECRETS).strip().splitlines()[-1]
    assert line.endswith("ERROR opsdesk.leak login failed: **** **** **** ****")
    assert not line.startswith("{")


def _command_log(desk: Desk, env: dict[str, str]) -> str:
    """What a command wrote to its log (stderr)."""
    done = subprocess.run([sys.executable, "-m", "opsdesk.cli", "shell", "-c", LEAK],
                          env={**desk.env, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except OSError:
        return 0


def test_each_answer_names_its_request_id_and_a_malformed_one_is_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1f2e.3d:4c")["X-Request-ID"] == \
        "lb-1f2e.3d:4c"
    for offered in ("x" * 129, "spaces are not ids", "a\nforged line"):
        given = client.get("/healthz", HTTP_X_REQUEST_ID=offered)["X-Request-ID"]
        assert given != offered and len(given) == 32
