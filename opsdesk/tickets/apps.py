from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opsdesk.runtime.periodic import Job


class TicketsConfig(AppConfig):
    name = "opsdesk.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from opsdesk.runtime import config, dispatcher, metrics, periodic, snapshots
        from opsdesk.tickets import metrics as ticket_metrics
        from opsdesk.tickets.dispatch import BATCH, BUSY_BATCH, dispatch_due
        from opsdesk.tickets.models import PriorityRule, Ticket

        config.watch(PriorityRule)
        dispatcher.dispatch_with(dispatch_due, batch=BATCH, busy_batch=BUSY_BATCH)
        dispatcher.watch_intake(Ticket)  # a report filed
        periodic.register(periodic_jobs)
        metrics.register(ticket_metrics.figures)
        snapshots.count("tickets", Ticket)


def periodic_jobs() -> list[Job]:
    """The tickets' jobs in the worker (imported there only)."""
    from opsdesk.runtime.periodic import Job
    from opsdesk.tickets.archiving import archive_due
    from opsdesk.tickets.follow_ups import follow_up
    from opsdesk.tickets.storage import remove_orphans

    return [
        Job("attachment-orphans", 3600, remove_orphans),
        Job("ticket-follow-ups", 300, follow_up),
        Job("archive-closed", 600, archive_due),
    ]
