"""The deployment files, checked without a container daemon or a systemd to run them: the
compose file's services, volumes, health checks and start order; the Dockerfile's user,
install, health check and secrets; the systemd units' user, restarts, environment and
hardening (and `systemd-analyze verify` where it is installed). The commands they run are run
for real in test_deploy_commands.py."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.deploy.files import DEPLOY, ROOT, UNITS, compose, dockerfile, env_example, unit

SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY", re.IGNORECASE)
# Read by the deployment files themselves rather than by opsdesk.
DEPLOYMENT_VARIABLES = {"OPSDESK_DB_PASSWORD", "OPSDESK_MIGRATE_ON_START"}


def _read_by_opsdesk(name: str) -> bool:
    return any(name in path.read_text() for path in (ROOT / "opsdesk").rglob("*.py"))


# Docker Compose.

def test_compose_runs_web_worker_and_postgresql_with_their_data_in_volumes():
    spec = compose()
    services = spec["services"]
    assert set(services) == {"db", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:15")
    assert "postgres-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in ("web", "worker"):
        service = services[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert "opsdesk-data:/var/lib/opsdesk" in service["volumes"]  # attachments shared
        assert service["restart"] == "unless-stopped"
        assert service["env_file"] == ".env"
    assert services["web"]["command"] == ["serve"] and services["worker"]["command"] == ["worker"]
    assert set(spec["volumes"]) == {"postgres-data", "opsdesk-data"}
    # Only a proxy on the machine reaches the web server.
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_compose_starts_each_service_once_what_it_needs_is_healthy():
    services = compose()["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
        for needed, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, needed)
            assert "healthcheck" in services[needed]
    assert set(services["web"]["depends_on"]) == {"db"}
    # The worker waits for the web server, whose entry point migrates first.
    assert set(services["worker"]["depends_on"]) == {"db", "web"}
    assert services["web"]["healthcheck"]["test"][1:] == [
        "python", "-m", "opsdesk.runtime.healthcheck", "/healthz"]
    # The image's HEALTHCHECK asks for a web server; the worker's container has none.
    assert services["worker"]["healthcheck"]["test"][1:] == ["opsdesk", "worker", "--alive"]


def test_compose_keeps_its_secrets_in_the_env_file():
    spec = compose()
    url = spec["services"]["web"]["environment"]["OPSDESK_DATABASE_URL"]
    assert url == ("postgres://opsdesk:${OPSDESK_DB_PASSWORD:?set OPSDESK_DB_PASSWORD in "
                   "deploy/.env}@db:5432/opsdesk")
    assert spec["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${OPSDESK_DB_PASSWORD:?")
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert ".env" in ignored and "*.env" in ignored


# The environment file.

def test_every_setting_of_the_env_example_is_one_opsdesk_reads():
    names = set(env_example())
    assert {"OPSDESK_SECRET_KEY", "OPSDESK_ALLOWED_HOSTS", "OPSDESK_DB_PASSWORD",
            "OPSDESK_LOG_FORMAT", "OPSDESK_METRICS_TOKEN"} <= names
    unknown = {n for n in names - DEPLOYMENT_VARIABLES if not _read_by_opsdesk(n)}
    assert not unknown
    compose_text = (DEPLOY / "compose.yaml").read_text()
    entrypoint = (DEPLOY / "docker-entrypoint.sh").read_text()
    assert "OPSDESK_DB_PASSWORD" in compose_text and "OPSDESK_MIGRATE_ON_START" in entrypoint


# The Dockerfile.

def test_the_image_is_slim_and_runs_as_its_own_user():
    instructions = dockerfile()
    assert instructions[0].keyword == "FROM"
    assert instructions[0].arguments.startswith("python:3.11-slim")
    users = [i.arguments for i in instructions if i.keyword == "USER"]
    assert users == ["opsdesk"]
    assert [i.keyword for i in instructions].index("USER") > max(
        n for n, i in enumerate(instructions) if i.keyword in ("RUN", "COPY"))
    assert any("useradd --system" in i.arguments and "opsdesk" in i.arguments
               for i in instructions if i.keyword == "RUN")


def test_the_image_installs_as_the_readme_does_and_collects_static_files_at_build():
    runs = [i.arguments for i in dockerfile() if i.keyword == "RUN"]
    assert any("/opt/opsdesk/bin/pip install /src" in run and " -e " not in run for run in runs)
    collect = next(run for run in runs if "collectstatic" in run)
    # A throwaway key for loading the settings, in a throwaway data folder, removed after.
    assert "OPSDESK_SECRET_KEY=collectstatic-only" in collect
    assert "OPSDESK_DATA_DIR=/tmp/collectstatic" in collect
    assert "rm -rf /tmp/collectstatic" in collect


def test_the_image_bakes_in_no_secret():
    for instruction in dockerfile():
        if instruction.keyword in ("ENV", "ARG", "LABEL"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments)
            assert not [n for n in names if SECRET_NAME.search(n)], instruction
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for kept_out in (".git", ".venv", "var", "**/secret_key", "*.sqlite3", "deploy/.env",
                     "deploy/*.env"):
        assert kept_out in ignored


def test_the_image_checks_its_health_and_migrates_before_serving():
    instructions = {i.keyword: i for i in dockerfile()}
    health = instructions["HEALTHCHECK"].arguments
    assert health.startswith("--interval=30s --timeout=5s --start-period=60s --retries=3 CMD ")
    assert health.endswith('CMD ["python", "-m", "opsdesk.runtime.healthcheck", "/healthz"]')
    assert instructions["ENTRYPOINT"].exec_form == ["opsdesk-entrypoint"]
    assert instructions["CMD"].exec_form == ["serve"]
    assert instructions["USER"].arguments == "opsdesk"
    copied = [i.arguments.split()[0] for i in dockerfile() if i.keyword == "COPY"]
    assert all((ROOT / source).exists() for source in copied)
    entrypoint = DEPLOY / "docker-entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111
    assert "opsdesk migrate --noinput" in entrypoint.read_text()


# systemd.

@pytest.mark.parametrize(("name", "command"), [("opsdesk-web.service", "serve"),
                                               ("opsdesk-worker.service", "worker")])
def test_the_units_restart_their_process_as_the_opsdesk_user(name, command):
    service = unit(name)["Service"]
    assert service["ExecStart"] == [f"/opt/opsdesk/current/bin/opsdesk {command}"]
    assert service["User"] == service["Group"] == ["opsdesk"]
    assert service["Restart"] == ["always"]
    assert service["EnvironmentFile"] == ["/etc/opsdesk/opsdesk.env"]
    assert unit(name)["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("name", ["opsdesk-web.service", "opsdesk-worker.service",
                                  "opsdesk-migrate.service"])
def test_the_units_are_hardened_and_write_only_their_data_folder(name):
    service = unit(name)["Service"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
                       "RestrictSUIDSGID": "yes", "StateDirectory": "opsdesk"}.items():
        assert service[key] == [value], key
    # StateDirectory makes /var/lib/opsdesk theirs and writable under ProtectSystem=strict.
    assert service["Environment"] == ["OPSDESK_DATA_DIR=/var/lib/opsdesk"]
    assert service["WorkingDirectory"] == ["/var/lib/opsdesk"]
    assert "ReadWritePaths" not in service


def test_the_migration_unit_migrates_then_collects_static_files():
    service = unit("opsdesk-migrate.service")["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [
        "/opt/opsdesk/current/bin/opsdesk migrate --noinput",
        "/opt/opsdesk/current/bin/opsdesk collectstatic --noinput --verbosity 0"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian package systemd)")
def test_systemd_finds_nothing_to_say_about_the_units(tmp_path):
    opsdesk = shutil.which("opsdesk", path=str(ROOT / ".venv" / "bin")) or "/usr/bin/env"
    for path in UNITS.glob("*.service"):
        # verify also checks that ExecStart's program exists: this machine's opsdesk.
        text = path.read_text().replace("/opt/opsdesk/current/bin/opsdesk", opsdesk)
        (tmp_path / path.name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *sorted(str(p) for p in tmp_path.glob("*.service"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
