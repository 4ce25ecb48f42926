from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Who gets a new ticket: ordered assignment rules and the duty roster."""

    name = "opsdesk.routing"
    label = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from opsdesk.accounts.models import User
        from opsdesk.routing.models import DutyShift, RoutingRule
        from opsdesk.routing.services import route_new_tickets
        from opsdesk.runtime import config
        from opsdesk.tickets.hooks import Stage, on_tickets_created

        # Who is on duty depends on the roster, on people's roles and on who has left.
        config.watch(RoutingRule, DutyShift, User,
                     m2m=(RoutingRule.modules.through, User.groups.through))
        on_tickets_created(route_new_tickets, stage=Stage.ROUTING)
