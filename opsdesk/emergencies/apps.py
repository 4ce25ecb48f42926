from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergenciesConfig(AppConfig):
    """Emergencies: declared on a ticket or from scratch, urgent at once, stakeholders told."""

    name = "opsdesk.emergencies"
    label = "emergencies"
    verbose_name = _("Emergencies")
