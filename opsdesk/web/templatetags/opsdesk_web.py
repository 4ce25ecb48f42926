"""Template tags of the workspace: a ticket's SLA badge."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from opsdesk.tickets.models import Ticket
from opsdesk.web.badges import sla_badge

register = template.Library()


@register.inclusion_tag("web/parts/sla.html")
def sla(ticket: Ticket) -> dict[str, Any]:
    return {"badge": sla_badge(ticket, timezone.now())}
