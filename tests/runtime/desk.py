"""A throw-away opsdesk installation for tests that run its real processes: its own data
folder and database (an SQLite file, or a fresh PostgreSQL database when the suite runs on
PostgreSQL), the ``opsdesk`` command, and plain SQL against the same database."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg


def postgres_base_url() -> str:
    return os.environ.get("OPSDESK_DATABASE_URL", "")


@dataclass
class Desk:
    data_dir: Path
    database_url: str = ""  # empty: SQLite in the data folder
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "OPSDESK_DATA_DIR": str(self.data_dir),
                "OPSDESK_DATABASE_URL": self.database_url, "OPSDESK_LOG_LEVEL": "INFO",
                "DJANGO_SETTINGS_MODULE": "opsdesk.settings", "PYTHONUNBUFFERED": "1"}

    @property
    def on_postgres(self) -> bool:
        return bool(self.database_url)

    def opsdesk(self, *args: str, env: dict[str, str] | None = None,
                timeout: float = 120) -> str:
        done = subprocess.run([sys.executable, "-m", "opsdesk.cli", *args],
                              env={**self.env, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *args: str, log: str, env: dict[str, str] | None = None,
              module: str = "opsdesk.cli") -> subprocess.Popen[bytes]:
        with (self.data_dir / log).open("ab") as out:
            process = subprocess.Popen([sys.executable, "-m", module, *args],
                                       env={**self.env, **(env or {})},
                                       stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.data_dir / name).read_text(errors="replace")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Plain SQL on the desk's database (``%s`` placeholders)."""
        if self.on_postgres:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
        with sqlite3.connect(self.data_dir / "opsdesk.sqlite3", timeout=30) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def file_ticket(self, title: str) -> None:
        """File a report as the first submitter would, through the service (the worker
        dispatches it)."""
        self.opsdesk("shell", "-c", (
            "from opsdesk.accounts.models import User; from opsdesk.tickets import services; "
            "services.create_ticket(by=User.objects.get(username='desk-submitter'), "
            f"title={title!r}, impact='few_users', urgency='normal', description='登录失败', "
            "occurred_at='2024-12-02T09:30:00+08:00', steps_to_reproduce='登录', "
            "error_message='500', impact_scope='运营部', submitter_contact='分机 8021')"
        ), env={"OPSDESK_DISPATCH": "worker"})

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def throwaway_desk(tmp_path: Path) -> Iterator[Desk]:
    """A migrated desk with one submitter, on the database the suite runs on."""
    base = postgres_base_url()
    name = f"opsdesk_t_{uuid.uuid4().hex[:12]}"
    if base:
        with psycopg.connect(_with_database(base, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    desk = Desk(tmp_path / "desk", _with_database(base, name) if base else "")
    desk.data_dir.mkdir()
    try:
        desk.opsdesk("migrate", "--verbosity", "0")
        desk.opsdesk("shell", "-c", (
            "from opsdesk.accounts.models import User; "
            "User.objects.create_user('desk-submitter', display_name='孙丽')"
        ))
        yield desk
    finally:
        desk.stop()
        if base:
            with psycopg.connect(_with_database(base, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
