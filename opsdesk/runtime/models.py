"""What the runtime keeps in the database: the configuration generation, and which worker
processes are alive."""

from django.db import models


class ConfigGeneration(models.Model):
    """One row counting changes to the configuration kept in memory (opsdesk.runtime.config)."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"configuration generation {self.value}"


class WorkerHeartbeat(models.Model):
    """A worker process saying it is alive, every few seconds. A task marked running by a
    worker whose heartbeat stopped was abandoned by a process that died (runtime/recovery.py);
    the readiness check reads the youngest heartbeat."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.host}"
