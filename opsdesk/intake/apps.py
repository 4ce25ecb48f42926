from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opsdesk.runtime.periodic import Job


class IntakeConfig(AppConfig):
    """The doors problems come in through: monitoring alerts, mail, webhooks."""

    name = "opsdesk.intake"
    label = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from opsdesk.intake import metrics as intake_metrics
        from opsdesk.intake.alerts.deduplication import note_closed_while_firing
        from opsdesk.intake.models import InboundMessage
        from opsdesk.runtime import dispatcher, metrics, periodic
        from opsdesk.tickets.hooks import Stage, on_ticket_change

        on_ticket_change(note_closed_while_firing, stage=Stage.ALERTS)
        # A payload stored: an alert storm's repeats file no ticket, yet keep the database
        # as busy as new reports do.
        dispatcher.watch_intake(InboundMessage)
        periodic.register(periodic_jobs)
        metrics.register(intake_metrics.figures)


def periodic_jobs() -> list[Job]:
    """Polling the mailbox, when one is configured (imported in the worker only)."""
    from opsdesk.intake.mail.imap import fetch_mail
    from opsdesk.runtime.periodic import Job

    if not settings.OPSDESK_IMAP_HOST:
        return []
    return [Job("fetchmail", settings.OPSDESK_IMAP_POLL_SECONDS, fetch_mail)]
