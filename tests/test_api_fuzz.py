"""The API fuzzed as every role (schemathesis against the OpenAPI document), with real tokens
and real ticket keys, on a real server with its worker: no answer may be a 5xx, and every
answer must match the document (status, content type, body shape, Allow headers); calls
without credentials must be refused and data the document rules out must not be accepted.

`make test` runs a few examples per operation and role (``OPSDESK_FUZZ_EXAMPLES``, 6); `make
fuzz` runs many more, with the stateful phase that chains calls (create, then act on it).
A failure prints schemathesis's report with a curl line that reproduces it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.desk import Desk, free_port, throwaway_desk, wait_for

pytestmark = pytest.mark.fuzz

ROLES = {
    "duty": "zhangwei", "owner": "wanglei", "support": "lina", "developer": "zhaoqiang",
    "ops": "chenjing", "head": "liuyang", "submitter": "sunli", "admin": "fuzz-admin",
}
CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "response_headers_conformance", "negative_data_rejection",
    "unsupported_method", "allow_header_conformance", "ignored_auth", "missing_required_header",
))
EXAMPLES = int(os.environ.get("OPSDESK_FUZZ_EXAMPLES", "6"))
PHASES = os.environ.get("OPSDESK_FUZZ_PHASES", "examples,coverage,fuzzing")
SEED = os.environ.get("OPSDESK_FUZZ_SEED", "20261205")


class Served:
    def __init__(self, desk: Desk, port: int) -> None:
        self.desk, self.url = desk, f"http://127.0.0.1:{port}"
        self.tokens: dict[str, str] = {}

    def get(self, path: str, role: str) -> Any:
        request = urllib.request.Request(
            self.url + "/api/v1" + path,
            headers={"Authorization": f"Bearer {self.tokens[role]}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)
        except OSError:
            return None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with throwaway_desk(tmp_path_factory.mktemp("fuzz")) as desk:
        desk.opsdesk("demo", "--verbosity", "0")
        desk.opsdesk("shell", "-c", (
            "from opsdesk.accounts.models import User; "
            "User.objects.create_superuser('fuzz-admin', 'admin@example.com', None)"))
        port = free_port()
        desk.start("serve", "--port", str(port), log="serve.log")
        desk.start("worker", log="worker.log")
        served = Served(desk, port)
        for role, username in ROLES.items():
            served.tokens[role] = desk.opsdesk("token", "create", username).split()[-1]
        wait_for(lambda: served.get("/me", "duty"), timeout=60, what="the server")
        yield served


def _parameters(served: Served, role: str) -> dict[str, Any]:
    """Real keys and ids this role can use, so that operations reach their logic."""
    page = served.get("/tickets?limit=50", role) or {"items": []}
    open_first = sorted(page["items"], key=lambda t: t["status"] in ("closed", "archived"))
    key = open_first[0]["key"] if open_first else "OPS-1"
    parameters: dict[str, Any] = {"path.key": key, "path.slug": "monitoring"}
    attachments = served.get(f"/tickets/{key}/attachments", role) or []
    if attachments:
        parameters["path.attachment_id"] = attachments[0]["id"]
    runs = served.get("/inspections/runs", role) or []
    if runs:
        run = served.get(f"/inspections/runs/{runs[0]['id']}", role) or {}
        parameters["path.run_id"] = runs[0]["id"]
        parameters["path.plan_id"] = run.get("plan", {}).get("id", 1)
        checklist = run.get("checklist") or [{"item": {"id": 1}}]
        parameters["path.item_id"] = checklist[0]["item"]["id"]
    return parameters


def _config(path: Path, parameters: dict[str, Any]) -> Path:
    lines = ["[parameters]", *(f"{json.dumps(k)} = {json.dumps(v)}"
                               for k, v in parameters.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


def _document(served: Served, path: Path) -> Path:
    """The API document as staff read it (it is theirs only: a submitter's token is refused
    it), kept for every role's run."""
    path.write_text(json.dumps(served.get("/openapi.json", "admin")))
    return path


@pytest.mark.parametrize("role", list(ROLES))
def test_every_answer_matches_the_document_and_none_is_a_server_error(served, role, tmp_path):
    config = _config(tmp_path / "schemathesis.toml", _parameters(served, role))
    document = _document(served, tmp_path / "openapi.json")
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
         "run", str(document), "--url", served.url,
         "--header", f"Authorization: Bearer {served.tokens[role]}",
         "--checks", CHECKS, "--phases", PHASES, "--max-examples", str(EXAMPLES),
         "--seed", SEED, "--workers", "1", "--request-timeout", "30"],
        capture_output=True, text=True, timeout=1800, cwd=tmp_path,
    )
    errors = [line for line in served.desk.log("serve.log").splitlines()
              if " ERROR " in line or line.startswith(("Traceback", "  File", "    "))]
    assert run.returncode == 0, (
        f"schemathesis found answers off the document as {role}:\n{run.stdout[-20000:]}\n"
        f"{run.stderr[-3000:]}\nserver errors:\n" + "\n".join(errors[-80:]))
