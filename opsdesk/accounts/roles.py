"""The department's roles, as the procedure names them (A–F), plus submitters and admins.

A role is a Django group whose name is the role's code, so admins grant roles in the admin.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DUTY = "duty", _("Duty engineer (A)")
    OWNER = "owner", _("Module owner (B)")
    SUPPORT = "support", _("Support engineer (C)")
    DEVELOPER = "developer", _("Developer (D)")
    OPS = "ops", _("Ops engineer (E)")
    HEAD = "head", _("Department head (F)")
    SUBMITTER = "submitter", _("Submitter")
    ADMIN = "admin", _("Administrator")


# Roles that read every ticket; developers and ops engineers read those they are pulled into.
SEES_ALL_TICKETS = frozenset({Role.DUTY, Role.OWNER, Role.SUPPORT, Role.HEAD, Role.ADMIN})
STAFF_ROLES = frozenset(
    {Role.DUTY, Role.OWNER, Role.SUPPORT, Role.DEVELOPER, Role.OPS, Role.HEAD, Role.ADMIN}
)
# Who can be made responsible for a ticket (the assignee): B or C.
ASSIGNABLE_ROLES = frozenset({Role.OWNER, Role.SUPPORT})
