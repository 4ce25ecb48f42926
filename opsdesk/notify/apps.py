from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opsdesk.runtime.periodic import Job


class NotifyConfig(AppConfig):
    """Outbound notifications: email and chat robots, per user and team, each delivery kept."""

    name = "opsdesk.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from opsdesk.notify import conversation
        from opsdesk.notify import metrics as notify_metrics
        from opsdesk.notify.services import gathered
        from opsdesk.runtime import metrics, periodic
        from opsdesk.tickets.hooks import (
            Stage,
            around_creation_hooks,
            on_ticket_change,
            on_tickets_created,
        )

        # After routing's and the SLA's stages: the ticket is routed and its clocks say what
        # is due before anyone is told. What routing tells and the receipts are written once.
        on_tickets_created(conversation.on_tickets_created, stage=Stage.NOTIFICATIONS)
        around_creation_hooks(gathered)
        on_ticket_change(conversation.on_ticket_change, stage=Stage.NOTIFICATIONS)
        periodic.register(periodic_jobs)
        metrics.register(notify_metrics.figures)


def periodic_jobs() -> list[Job]:
    """The notifications' jobs in the worker (imported there only)."""
    from opsdesk.notify.services import forget_read_notices
    from opsdesk.notify.tasks import retry_due_deliveries
    from opsdesk.runtime.periodic import Job

    return [
        Job("notify-retry", 60, retry_due_deliveries),
        Job("forget-read-notices", 24 * 3600, forget_read_notices),
    ]
