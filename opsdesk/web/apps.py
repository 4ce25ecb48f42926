from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The HTML pages: sign-in, the agent workspace, the ticket page, the approval inbox, the
    submitter portal, preferences and the administration hub."""

    name = "opsdesk.web"
    label = "web"
    verbose_name = _("Web")
