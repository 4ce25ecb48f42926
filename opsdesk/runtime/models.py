from django.db import models


class ConfigGeneration(models.Model):
    """One row counting changes to the configuration kept in memory (opsdesk.runtime.config)."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"configuration generation {self.value}"
