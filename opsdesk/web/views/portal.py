"""The submitter portal: report a problem with a guided form, follow one's own tickets, and
see at once which of them wait for an answer or a verification."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import module_names
from opsdesk.tickets import fields as f
from opsdesk.tickets import registration, selectors, services, uploads
from opsdesk.tickets.choices import Channel, Impact, SourceKind, Status, Urgency
from opsdesk.tickets.errors import DomainError
from opsdesk.tickets.models import Ticket
from opsdesk.web.queues import ROW_COLUMNS
from opsdesk.web.views.common import person, refusals_shown_by
from opsdesk.web.views.search import with_hits

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
REPORT_FIELDS = ("title", "impact", "urgency", "module", "occurred_at", "submitter_department",
                 "submitter_contact", *(fld.name for fld in TEXT_FIELDS))
NEEDS_SUBMITTER = (Status.WAITING, Status.AWAITING_VERIFICATION)


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    user = person(request)
    text = request.GET.get("text", "").strip()[:200]
    mine = selectors.TicketFilters(submitter=str(user.pk), text=text or None)
    try:
        page = selectors.list_tickets(user=user, filters=mine, cursor=request.GET.get("cursor"),
                                      limit=50, columns=ROW_COLUMNS)
    except DomainError as exc:  # a damaged cursor
        messages.error(request, exc.message)
        page = selectors.Page(items=[], next_cursor=None)
    waiting = selectors.list_tickets(
        user=user, filters=selectors.TicketFilters(submitter=str(user.pk),
                                                   status=list(NEEDS_SUBMITTER)),
        limit=50, columns=ROW_COLUMNS)
    return render(request, "web/portal.html", {
        "nav": "portal", "tickets": with_hits(page.items), "next_cursor": page.next_cursor,
        "needs_you": waiting.items, "text": text,
    })


def _form_context(user: Any, values: dict[str, str], error: str = "",
                  fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    door = registration.door_for(SourceKind.USER_REPORT, Channel.WEB)
    needs = door.requires if door is not None else ()
    return {
        "nav": "new", "values": values, "error": error, "error_fields": fields,
        # The fields a report through the portal must hold (tickets/registration.py), and
        # those needed only for a fault, with why.
        "required": {r.field.name for r in needs if r.when is None},
        "required_for_a_fault": {r.field.name: str(r.why) for r in needs if r.when},
        "impacts": [(v, label, IMPACT_HINTS[Impact(v)]) for v, label in Impact.choices],
        "urgencies": [(v, label, URGENCY_HINTS[Urgency(v)]) for v, label in Urgency.choices],
        "modules": module_names(),
        "max_upload_bytes": settings.OPSDESK_ATTACHMENT_MAX_BYTES,
    }


def _posted_report(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in REPORT_FIELDS}


def _report_again(request: HttpRequest, refusal: DomainError) -> HttpResponse:
    """The report's form again, as it was typed, with the refused fields marked."""
    named = frozenset([*refusal.details.get("missing", []), refusal.details.get("field") or ""])
    context = _form_context(person(request), _posted_report(request), refusal.message, named)
    return render(request, "web/new_ticket.html", context, status=refusal.status)


@login_required
@refusals_shown_by(_report_again)
def new_ticket(request: HttpRequest) -> HttpResponse:
    user = person(request)
    if request.method != "POST":
        values = {"submitter_department": user.department, "submitter_contact": user.contact}
        return render(request, "web/new_ticket.html", _form_context(user, values))
    values = _posted_report(request)
    # Files over the limit were refused while the form was read (the fields before them are
    # kept): nothing is filed, and the report is shown again to choose smaller ones.
    uploads.raise_refusal(request)
    ticket = services.create_ticket(
        by=user, title=values["title"], impact=values["impact"], urgency=values["urgency"],
        channel=Channel.WEB, module=values["module"] or None,
        occurred_at=f.OCCURRED_AT.parse(values["occurred_at"]),
        submitter_department=values["submitter_department"].strip(),
        submitter_contact=values["submitter_contact"].strip(),
        description=values["description"], steps_to_reproduce=values["steps_to_reproduce"],
        error_message=values["error_message"], impact_scope=values["impact_scope"],
    )
    messages.success(request, _("%(key)s registered. You can follow it here.")
                     % {"key": ticket.key})
    _attach_files(request, user, ticket, request.FILES.getlist("files"))
    return redirect("web:ticket", key=ticket.key)


def _attach_files(request: HttpRequest, user: User, ticket: Ticket,
                  files: list[UploadedFile]) -> None:
    """The report's screenshots and files, each stored with the ticket as one attached on its
    page would be. One that cannot be kept (a full disk) does not undo the report: the person
    is told which, and why, and can attach it on the ticket's page."""
    for upload in files:
        try:
            services.add_attachment(ticket_id=ticket.pk, by=user, name=upload.name or "",
                                    content=upload, content_type=upload.content_type or "")
        except DomainError as exc:
            messages.error(request, _("%(name)s was not attached: %(reason)s You can attach it "
                                      "on this page.") % {"name": upload.name,
                                                          "reason": exc.message})
