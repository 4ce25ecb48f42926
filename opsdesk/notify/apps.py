from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    """Outbound notifications: email and chat robots, per user and team, each delivery kept."""

    name = "opsdesk.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from opsdesk.notify import conversation
        from opsdesk.tickets.hooks import on_ticket_change, on_tickets_created

        # After routing's and the SLA's hooks (their apps come first in INSTALLED_APPS): the
        # ticket is routed and its clocks say what is due before anyone is told.
        on_tickets_created(conversation.on_tickets_created)
        on_ticket_change(conversation.on_ticket_change)
