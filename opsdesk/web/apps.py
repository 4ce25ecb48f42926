from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """Server-rendered pages shared by the apps: sign-in, home."""

    name = "opsdesk.web"
    label = "web"
    verbose_name = _("Web")
