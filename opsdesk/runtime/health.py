"""Whether this desk can serve: alive (the process answers) and ready (its database answers,
every migration this version needs is applied, and a worker said it was alive within a
minute). Each check is a query or two on small tables or an index, cheap enough to be probed
every few seconds; answers say what was checked, never why in the database's own words
(those may name hosts and users).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from opsdesk.runtime.recovery import youngest_heartbeat

# A worker beats every 10 s (runtime/recovery.py): six missed beats and it is not working.
HEARTBEAT_FRESH_FOR = timedelta(minutes=1)


@dataclass
class Readiness:
    checks: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return bool(self.checks) and all(check["ok"] for check in self.checks.values())

    def as_json(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "not_ready", "checks": self.checks}


def readiness(*, now: datetime | None = None) -> Readiness:
    """Check the database, then the migrations and the workers; when the database does not
    answer, the rest cannot be checked and is not reported."""
    now = now or timezone.now()
    found = Readiness()
    try:
        applied = MigrationRecorder(connection).applied_migrations()
    except DatabaseError:
        found.checks["database"] = {"ok": False}
        return found
    found.checks["database"] = {"ok": True}
    unapplied = len(migrations_needed() - applied.keys())
    found.checks["migrations"] = {"ok": unapplied == 0, "unapplied": unapplied}
    age = _heartbeat_age(now)
    found.checks["worker"] = {"ok": age is not None and age < HEARTBEAT_FRESH_FOR.total_seconds(),
                              "heartbeat_age_seconds": None if age is None else round(age)}
    return found


@cache
def migrations_needed() -> frozenset[tuple[str, str]]:
    """Every migration of the code this process runs (read from disk once: it cannot change
    under a running process, and an upgrade restarts it)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _heartbeat_age(now: datetime) -> float | None:
    """Seconds since the youngest worker heartbeat; None without any (or, on a database not
    migrated yet, without the table)."""
    try:
        seen_at = youngest_heartbeat()
    except DatabaseError:
        return None
    return None if seen_at is None else max((now - seen_at).total_seconds(), 0.0)
