from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Tickets brought in from other trackers' exports (Jira, ZenTao), each remembered by its
    key there so that importing the same export again creates nothing twice."""

    name = "opsdesk.imports"
    label = "imports"
    verbose_name = _("Imported history")
