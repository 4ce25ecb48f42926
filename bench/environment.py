"""A throw-away opsdesk installation: its own data folder and database, removed at the end.

Everything here runs before Django is set up: the settings read ``OPSDESK_DATA_DIR`` and
``OPSDESK_DATABASE_URL`` once, at import, so the environment is prepared first.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from bench.server import Server

BENCH_DATABASE = "opsdesk_bench"


def redact(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def command_line(module: str, argv: list[str], *, bare: str = "") -> str:
    """How a benchmark was run, for its results: the module with its arguments (passwords
    hidden), or ``bare`` when it had none, under the niceness it ran with."""
    given = "".join(f" {redact(a)}" for a in argv)
    command = f".venv/bin/python -m {module}{given}" if given or not bare else bare
    if niceness := os.nice(0):
        command = f"nice -n {niceness} {command}"
    return command


@dataclass
class Environment:
    """The benchmark's data folder, database and the environment the server is started with."""

    postgres_url: str | None = None
    data_dir: str = ""
    database_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres_url else "sqlite"

    def create(self) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="opsdesk-bench-")
        if self.postgres_url:
            self.database_url = self._create_postgres_database()
        env = {
            "OPSDESK_DATA_DIR": self.data_dir,
            "OPSDESK_DATABASE_URL": self.database_url,  # empty: SQLite in the data folder
            "OPSDESK_LOG_LEVEL": "WARNING",
            "OPSDESK_DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "opsdesk.settings",
        }
        os.environ.update(env)
        self.env = {**os.environ, **env}

    def setup_django(self) -> None:
        import django

        django.setup()

    def reset_database(self) -> None:
        """Start again from an empty database (the server must be stopped)."""
        from django.db import connections

        connections.close_all()
        if self.postgres_url:
            self.database_url = self._create_postgres_database()
            return
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(self.data_dir, "opsdesk.sqlite3" + suffix)
            if os.path.exists(path):
                os.remove(path)

    def destroy(self) -> None:
        """Close this process's connections, drop the PostgreSQL database, remove the folder."""
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may never have been set up
            pass
        if self.postgres_url and self.database_url:
            self._drop_postgres_database()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def helper_pids(self) -> set[int]:
        """The PostgreSQL backends serving the benchmark's database (none on SQLite)."""
        if not self.postgres_url:
            return set()
        with self._admin_connection() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [BENCH_DATABASE]
            ).fetchall()
        return {int(pid) for (pid,) in rows}

    def _admin_connection(self) -> Any:
        import psycopg

        assert self.postgres_url
        return psycopg.connect(self.postgres_url, autocommit=True, connect_timeout=5)

    def _create_postgres_database(self) -> str:
        assert self.postgres_url
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        return urlunsplit(urlsplit(self.postgres_url)._replace(path=f"/{BENCH_DATABASE}"))

    def _drop_postgres_database(self) -> None:
        with self._admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def _interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


@contextmanager
def session(env: Environment) -> Iterator[list[Server]]:
    """``env`` created and set up for the body; every server the body appends to the yielded
    list is stopped and ``env`` destroyed afterwards, also on Ctrl+C or SIGTERM (exit 130)."""
    signal.signal(signal.SIGTERM, _interrupt)
    servers: list[Server] = []
    try:
        env.create()
        env.setup_django()
        yield servers
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        sys.exit(130)
    finally:
        for server in servers:
            server.stop()
        env.destroy()
