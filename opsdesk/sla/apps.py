from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "opsdesk.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from opsdesk.sla.services import on_ticket_change as move_clocks
        from opsdesk.sla.services import start_clocks
        from opsdesk.tickets.hooks import on_ticket_change, on_tickets_created

        on_tickets_created(start_clocks)
        on_ticket_change(move_clocks)

        from opsdesk.runtime import config
        from opsdesk.sla.models import BusinessCalendar, CalendarOverride, SlaPolicy

        config.watch(SlaPolicy, BusinessCalendar, CalendarOverride)
