"""Administration hub: the configuration a desk needs (opsdesk's own pages under /manage/, the
Django admin for the rare rest), the duty roster as people read it daily, and the latest
configuration changes with who made them (the admin's LogEntry, written by either door)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.roles import Role
from opsdesk.routing.selectors import shifts_between
from opsdesk.web.views.common import person

RECENT_CHANGES = 15

# (heading, [(label, admin changelist URL name)]) in the order a new desk is set up.
SECTIONS = (
    (_("People and modules"), (
        (_("Users and roles"), "web:manage_people"),
        (_("Roles (groups)"), "admin:auth_group_changelist"),
        (_("Modules and owners"), "web:manage_modules"),
        (_("API tokens"), "admin:accounts_apitoken_changelist"),
    )),
    (_("Routing and duty"), (
        (_("Routing rules"), "web:manage_routing"),
        (_("Duty roster"), "web:manage_roster"),
        (_("Priority matrix"), "admin:tickets_priorityrule_changelist"),
    )),
    (_("Tickets"), (
        (_("Tickets (read-only)"), "admin:tickets_ticket_changelist"),
        (_("Support ratings"), "admin:tickets_supportrating_changelist"),
    )),
    (_("SLA"), (
        (_("SLA policies"), "web:manage_sla"),
        (_("Business calendars"), "web:manage_sla"),
        (_("Holidays and make-up working days"), "web:manage_sla"),
    )),
    (_("Notifications and integrations"), (
        (_("Teams"), "admin:notify_team_changelist"),
        (_("Notification channels"), "admin:notify_channel_changelist"),
        (_("Deliveries"), "admin:notify_delivery_changelist"),
        (_("Integrations (secrets shown once)"), "web:manage_integrations"),
        (_("Inbound messages"), "admin:intake_inboundmessage_changelist"),
    )),
)


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    user = person(request)
    if not (user.is_staff or user.has_role(Role.ADMIN)):
        raise PermissionDenied
    now = timezone.now()
    # The Django admin opens to staff accounts only: others are not sent to its sign-in page.
    sections = [(title, shown) for title, links in SECTIONS
                if (shown := [(label, reverse(name)) for label, name in links
                              if user.is_staff or not name.startswith("admin:")])]
    return render(request, "web/manage.html", {
        "nav": "manage", "sections": sections,
        "shifts": shifts_between(now, now + timedelta(days=7)), "now": now,
        "changes": _recent_changes(),
    })


def _recent_changes() -> list[tuple[LogEntry, str, str]]:
    """The latest configuration changes: (entry, what kind of thing, what was done), in the
    reader's language."""
    rows = []
    for entry in LogEntry.objects.select_related("user", "content_type")[:RECENT_CHANGES]:
        model = entry.content_type.model_class() if entry.content_type else None
        kind = capfirst(str(model._meta.verbose_name)) if model else ""
        if entry.is_addition():
            done = str(_("Added."))
        elif entry.is_deletion():
            done = str(_("Deleted."))
        else:
            done = entry.get_change_message()
        rows.append((entry, kind, done))
    return rows

