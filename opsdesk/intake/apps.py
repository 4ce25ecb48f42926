from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """The doors problems come in through: monitoring alerts, mail, webhooks."""

    name = "opsdesk.intake"
    label = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from opsdesk.intake import alerts, receivers, services
        from opsdesk.intake.models import IntegrationKind
        from opsdesk.tickets.hooks import on_ticket_change

        services.RECEIVERS[IntegrationKind.ZABBIX] = receivers.receive_zabbix
        services.RECEIVERS[IntegrationKind.WEBHOOK] = receivers.receive_webhook
        on_ticket_change(alerts.note_closed_while_firing)
