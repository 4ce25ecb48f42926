"""Administration hub: the configuration a desk needs, each in the Django admin, and the duty
roster as people read it daily."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.roles import Role
from opsdesk.routing.selectors import shifts_between
from opsdesk.web.views.common import person

# (heading, [(label, admin changelist URL name)]) in the order a new desk is set up.
SECTIONS = (
    (_("People and modules"), (
        (_("Users and roles"), "admin:accounts_user_changelist"),
        (_("Roles (groups)"), "admin:auth_group_changelist"),
        (_("Modules and owners"), "admin:accounts_module_changelist"),
        (_("API tokens"), "admin:accounts_apitoken_changelist"),
    )),
    (_("Routing and duty"), (
        (_("Routing rules"), "admin:routing_routingrule_changelist"),
        (_("Duty roster"), "admin:routing_dutyshift_changelist"),
        (_("Priority matrix"), "admin:tickets_priorityrule_changelist"),
    )),
    (_("Tickets"), (
        (_("Tickets (read-only)"), "admin:tickets_ticket_changelist"),
        (_("Support ratings"), "admin:tickets_supportrating_changelist"),
    )),
    (_("SLA"), (
        (_("SLA policies"), "admin:sla_slapolicy_changelist"),
        (_("Business calendars"), "admin:sla_businesscalendar_changelist"),
        (_("Holidays and make-up working days"), "admin:sla_calendaroverride_changelist"),
    )),
    (_("Notifications and integrations"), (
        (_("Teams"), "admin:notify_team_changelist"),
        (_("Notification channels"), "admin:notify_channel_changelist"),
        (_("Deliveries"), "admin:notify_delivery_changelist"),
        (_("Integrations (secrets shown once)"), "admin:intake_integration_changelist"),
        (_("Inbound messages"), "admin:intake_inboundmessage_changelist"),
    )),
)


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    user = person(request)
    if not (user.is_staff or user.has_role(Role.ADMIN)):
        raise PermissionDenied
    now = timezone.now()
    sections = [(title, [(label, reverse(name)) for label, name in links])
                for title, links in SECTIONS]
    return render(request, "web/manage.html", {
        "nav": "manage", "sections": sections,
        "shifts": shifts_between(now, now + timedelta(days=7)), "now": now,
    })
