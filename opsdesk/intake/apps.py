from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """The doors problems come in through: monitoring alerts, mail, webhooks."""

    name = "opsdesk.intake"
    label = "intake"
    verbose_name = _("Intake")
