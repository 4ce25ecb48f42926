from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opsdesk.runtime.periodic import Job


class SlaConfig(AppConfig):
    name = "opsdesk.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from opsdesk.runtime import config, metrics, periodic
        from opsdesk.sla import metrics as sla_metrics
        from opsdesk.sla.models import BusinessCalendar, CalendarOverride, SlaPolicy
        from opsdesk.sla.services import on_ticket_change as move_clocks
        from opsdesk.sla.services import start_clocks
        from opsdesk.tickets.hooks import Stage, on_ticket_change, on_tickets_created

        on_tickets_created(start_clocks, stage=Stage.SERVICE_LEVELS)
        on_ticket_change(move_clocks, stage=Stage.SERVICE_LEVELS)
        config.watch(SlaPolicy, BusinessCalendar, CalendarOverride)
        periodic.register(periodic_jobs)
        metrics.register(sla_metrics.figures)


def periodic_jobs() -> list[Job]:
    """The SLA's jobs in the worker: the sweep catches a threshold whose timer was lost."""
    from opsdesk.runtime.periodic import Job
    from opsdesk.sla.services import remind_missing_schedule, sweep

    return [
        Job("sla-sweep", 30, sweep),
        Job("sla-schedule-reminder", 24 * 3600, remind_missing_schedule),
    ]
