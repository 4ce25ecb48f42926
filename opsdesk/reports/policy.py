"""Who may read the dashboards: the department's staff. Submitters see only their own tickets,
so department-wide figures are not for them."""

from __future__ import annotations

from opsdesk.accounts.models import User


def may_view_dashboards(user: User) -> bool:
    return user.is_active and user.is_department_staff
