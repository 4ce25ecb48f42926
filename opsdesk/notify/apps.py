from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    """Outbound notifications: email and chat robots, per user and team, each delivery kept."""

    name = "opsdesk.notify"
    label = "notify"
    verbose_name = _("Notifications")
