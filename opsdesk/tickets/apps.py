from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "opsdesk.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from opsdesk.runtime import config
        from opsdesk.tickets.models import PriorityRule

        config.watch(PriorityRule)
