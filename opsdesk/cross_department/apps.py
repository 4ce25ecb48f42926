from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrossDepartmentConfig(AppConfig):
    """Requests from other departments (integration work, features) filed through one form."""

    name = "opsdesk.cross_department"
    label = "cross_department"
    verbose_name = _("Cross-department requests")
