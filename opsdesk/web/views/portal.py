"""The submitter portal: report a problem with a guided form, follow one's own tickets, and
see at once which of them wait for an answer or a verification."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.selectors import module_names
from opsdesk.tickets import fields as f
from opsdesk.tickets import selectors, services
from opsdesk.tickets.choices import Channel, Impact, Status, Urgency
from opsdesk.tickets.errors import DomainError
from opsdesk.web.queues import ROW_COLUMNS
from opsdesk.web.views.common import person

# Plain-language hints for the two questions that set the priority.
IMPACT_HINTS = {
    Impact.ALL_USERS: _("For example: nobody can sign in, payments fail."),
    Impact.SOME_USERS: _("For example: data cannot be submitted, reports fail for a team."),
    Impact.FEW_USERS: _("For example: a page looks wrong, something is slow or awkward."),
    Impact.NONE: _("A suggestion, a question or a wish."),
}
URGENCY_HINTS = {
    Urgency.IMMEDIATE: _("The business has stopped until this is fixed."),
    Urgency.HIGH: _("People cannot do their work and have no way around it."),
    Urgency.NORMAL: _("There is a way around it for now."),
    Urgency.LOW: _("It can wait for a planned fix."),
}
TEXT_FIELDS = (f.DESCRIPTION, f.STEPS, f.ERROR_MESSAGE, f.IMPACT_SCOPE)
NEEDS_SUBMITTER = (Status.WAITING, Status.AWAITING_VERIFICATION)


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    user = person(request)
    mine = selectors.TicketFilters(submitter=str(user.pk))
    page = selectors.list_tickets(user=user, filters=mine, cursor=request.GET.get("cursor"),
                                  limit=50, columns=ROW_COLUMNS)
    waiting = selectors.list_tickets(
        user=user, filters=selectors.TicketFilters(submitter=str(user.pk),
                                                   status=list(NEEDS_SUBMITTER)),
        limit=50, columns=ROW_COLUMNS)
    return render(request, "web/portal.html", {
        "nav": "portal", "tickets": page.items, "next_cursor": page.next_cursor,
        "needs_you": waiting.items,
    })


def _form_context(user: Any, values: dict[str, str], error: str = "",
                  field: str = "") -> dict[str, Any]:
    return {
        "nav": "new", "values": values, "error": error, "error_field": field,
        "impacts": [(v, label, IMPACT_HINTS[Impact(v)]) for v, label in Impact.choices],
        "urgencies": [(v, label, URGENCY_HINTS[Urgency(v)]) for v, label in Urgency.choices],
        "modules": module_names(),
    }


@login_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    user = person(request)
    if request.method != "POST":
        values = {"submitter_department": user.department, "submitter_contact": user.contact}
        return render(request, "web/new_ticket.html", _form_context(user, values))
    post = request.POST
    values = {name: post.get(name, "") for name in (
        "title", "impact", "urgency", "module", "occurred_at", "submitter_department",
        "submitter_contact", *(fld.name for fld in TEXT_FIELDS))}
    try:
        ticket = services.create_ticket(
            by=user, title=values["title"], impact=values["impact"], urgency=values["urgency"],
            channel=Channel.WEB, module=values["module"] or None,
            occurred_at=f.OCCURRED_AT.parse(values["occurred_at"]),
            submitter_department=values["submitter_department"].strip(),
            submitter_contact=values["submitter_contact"].strip(),
            description=values["description"], steps_to_reproduce=values["steps_to_reproduce"],
            error_message=values["error_message"], impact_scope=values["impact_scope"],
        )
    except DomainError as exc:
        context = _form_context(user, values, exc.message, exc.details.get("field", ""))
        return render(request, "web/new_ticket.html", context, status=exc.status)
    messages.success(request, _("%(key)s registered. You can follow it here.")
                     % {"key": ticket.key})
    return redirect("web:ticket", key=ticket.key)
