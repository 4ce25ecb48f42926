"""The commands the deployment files run, run for real with the environment they give: the
container's entry point on an empty database (it migrates, then serves), the image's and the
compose file's health checks, the systemd units' ExecStart lines with their Environment= and
EnvironmentFile= (deploy/opsdesk.env.example, filled in), and Django's deployment check on
those settings. No container daemon or systemd is needed: only the images' and units' own
paths are swapped for this machine's."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from tests.deploy.files import DEPLOY, ROOT, compose, dockerfile, env_example, exec_start, unit
from tests.runtime.desk import _with_database, free_port, postgres_base_url, wait_for

VENV_BIN = Path(sys.executable).parent


def filled_in_env_file(data_dir: Path, database_url: str) -> dict[str, str]:
    """deploy/opsdesk.env.example as an operator fills it in, on this machine."""
    env = env_example()
    env["OPSDESK_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["OPSDESK_DB_PASSWORD"] = secrets.token_hex(12)
    env["OPSDESK_METRICS_TOKEN"] = secrets.token_urlsafe(24)
    env["OPSDESK_DATA_DIR"] = str(data_dir)
    env["OPSDESK_DATABASE_URL"] = database_url
    return env


def base_environment() -> dict[str, str]:
    """The machine's environment without any opsdesk setting of the test run's own."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("OPSDESK_", "DJANGO_"))}
    return {**kept, "PATH": f"{VENV_BIN}{os.pathsep}{kept.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1"}


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database nobody migrated: a new PostgreSQL database when the suite runs on
    PostgreSQL, else '' (SQLite in the data folder)."""
    base = postgres_base_url()
    if not base:
        yield ""
        return
    name = f"opsdesk_deploy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(base, name)
    finally:
        with psycopg.connect(_with_database(base, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], env: dict[str, str], log: str) -> None:
        with (self.folder / log).open("ab") as out:
            self.running.append(subprocess.Popen(argv, env=env, stdout=out,
                                                 stderr=subprocess.STDOUT, cwd=self.folder))

    def log(self, name: str) -> str:
        return (self.folder / name).read_text(errors="replace")

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def processes(folder: Path) -> Iterator[Processes]:
    running = Processes(folder)
    try:
        yield running
    finally:
        running.stop()


def succeeds(argv: list[str], env: dict[str, str]) -> bool:
    return subprocess.run(argv, env=env, capture_output=True, timeout=60).returncode == 0


def readiness(port: int) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())
    except OSError:
        return 0, None


def image_environment(env_file: dict[str, str], port: int) -> dict[str, str]:
    """What a container of the image sees: the Dockerfile's ENV (its venv's PATH is this
    machine's), the compose file's env_file and environment, its own port."""
    env = base_environment()
    for instruction in dockerfile():
        if instruction.keyword == "ENV":
            for assignment in shlex.split(instruction.arguments):
                name, _, value = assignment.partition("=")
                if name != "PATH":
                    env[name] = value
    env.update(env_file)
    env["OPSDESK_PORT"] = str(port)
    return env


def test_the_containers_commands_migrate_serve_and_work_on_an_empty_database(tmp_path):
    spec = compose()["services"]
    with empty_database(tmp_path) as database_url:
        data = tmp_path / "volume"
        data.mkdir()
        port = free_port()
        env = image_environment(filled_in_env_file(data, database_url), port)
        static_root = tmp_path / "image-static"
        env["OPSDESK_STATIC_ROOT"] = str(static_root)
        entrypoint = [str(DEPLOY / "docker-entrypoint.sh")]
        image_check = next(i for i in dockerfile() if i.keyword == "HEALTHCHECK")
        image_check_argv = json.loads(image_check.arguments.split(" CMD ", 1)[1])

        # The build's collectstatic, with the build's throwaway key and folder.
        build = next(i.arguments for i in dockerfile()
                     if i.keyword == "RUN" and "collectstatic" in i.arguments)
        build = build.replace("/tmp/collectstatic", str(tmp_path / "build-data"))
        subprocess.run(["sh", "-c", build], env=env, check=True, timeout=300)
        assert (static_root / "staticfiles.json").exists()
        assert not (tmp_path / "build-data").exists()

        with processes(tmp_path) as running:
            running.start(entrypoint + spec["web"]["command"], env, "web.log")
            wait_for(lambda: succeeds(image_check_argv, env), timeout=120,
                     what="the image's HEALTHCHECK")
            assert succeeds(spec["web"]["healthcheck"]["test"][1:], env)
            status, body = readiness(port)
            assert status == 503 and body["checks"]["migrations"] == {"ok": True, "unapplied": 0}
            worker_check = spec["worker"]["healthcheck"]["test"][1:]
            assert not succeeds(worker_check, env)

            running.start(entrypoint + spec["worker"]["command"], env, "worker.log")
            wait_for(lambda: readiness(port)[0] == 200, timeout=60, what="/readyz 200")
            assert succeeds(worker_check, env)
            # The static files served are the image's (asked for as the proxy would).
            static = urllib.request.Request(
                f"http://127.0.0.1:{port}/static/{_any_static_file(static_root)}",
                headers={"Host": "opsdesk.example.com", "X-Forwarded-Proto": "https"})
            with urllib.request.urlopen(static, timeout=10) as answer:
                assert answer.status == 200

        logs = running.log("web.log") + running.log("worker.log")
        assert env["OPSDESK_SECRET_KEY"] not in logs
        lines = [line for line in logs.splitlines() if line.startswith("{")]
        assert lines and all(json.loads(line)["level"] for line in lines)  # the env's json
        assert not (data / "secret_key").exists()  # the env file's key is the key


def test_the_systemd_units_commands_migrate_serve_and_work(tmp_path):
    with empty_database(tmp_path) as database_url:
        state = tmp_path / "var-lib-opsdesk"
        state.mkdir()
        port = free_port()
        env = base_environment()
        for assignment in unit("opsdesk-web.service")["Service"]["Environment"]:
            name, _, value = assignment.partition("=")
            env[name] = value
        # EnvironmentFile= overrides Environment=; the data folder is this test's.
        env.update(filled_in_env_file(state, database_url))
        env.update(OPSDESK_HOST="127.0.0.1", OPSDESK_PORT=str(port))

        for command in exec_start("opsdesk-migrate.service"):
            subprocess.run(_here(command), env=env, check=True, timeout=300, cwd=state)
        assert (state / "static" / "staticfiles.json").exists()
        with processes(state) as running:
            running.start(_here(exec_start("opsdesk-web.service")[0]), env, "web.log")
            running.start(_here(exec_start("opsdesk-worker.service")[0]), env, "worker.log")
            wait_for(lambda: readiness(port)[0] == 200, timeout=120, what="/readyz 200")
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/metrics",
                headers={"Authorization": f"Bearer {env['OPSDESK_METRICS_TOKEN']}"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert b"opsdesk_workers 1.0" in answer.read()


def test_the_production_settings_pass_djangos_deployment_check(tmp_path):
    env = {**base_environment(), **filled_in_env_file(tmp_path, ""),
           "DJANGO_SETTINGS_MODULE": "opsdesk.settings"}
    done = subprocess.run([sys.executable, "-m", "django", "check", "--deploy",
                           "--fail-level", "DEBUG"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def _here(command: list[str]) -> list[str]:
    """A unit's command with this machine's opsdesk for /opt/opsdesk/current/bin/opsdesk."""
    assert command[0] == "/opt/opsdesk/current/bin/opsdesk"
    return [str(VENV_BIN / "opsdesk"), *command[1:]]


def _any_static_file(root: Path) -> str:
    manifest = json.loads((root / "staticfiles.json").read_text())
    return str(next(iter(manifest["paths"].values())))

