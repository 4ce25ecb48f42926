from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    """Routine inspections: checklists run on a schedule; a failed check opens a ticket."""

    name = "opsdesk.inspections"
    label = "inspections"
    verbose_name = _("Inspections")
