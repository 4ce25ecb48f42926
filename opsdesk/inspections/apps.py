from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opsdesk.runtime.periodic import Job


class InspectionsConfig(AppConfig):
    """Routine inspections: checklists run on a schedule; a failed check opens a ticket."""

    name = "opsdesk.inspections"
    label = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        from opsdesk.runtime import periodic

        periodic.register(periodic_jobs)


def periodic_jobs() -> list[Job]:
    """The inspection scheduler in the worker: it starts the runs that fell due."""
    from opsdesk.inspections.services import run_periodic_checks
    from opsdesk.runtime.periodic import Job

    return [Job("inspections", 30, run_periodic_checks)]
