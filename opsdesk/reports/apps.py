from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Dashboards: figures computed from tickets and SLA clocks, and the page that charts them."""

    name = "opsdesk.reports"
    label = "reports"
    verbose_name = _("Reports")
