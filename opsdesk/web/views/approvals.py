"""The department head's approval inbox: plans waiting for a decision, with their risk flags;
approve or reject (with the reason) in one step."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsdesk.accounts.roles import Role
from opsdesk.bounds import positive_int
from opsdesk.tickets import selectors, services
from opsdesk.tickets.errors import DomainError
from opsdesk.web.views.common import person, refusals_shown_by, staff_page
from opsdesk.web.views.ticket import plan_risks, visible_ticket

# The decision buttons: the workflow action each takes, and the field the text goes into.
DECISIONS = {"approve": ("approve", "comment"), "reject": ("reject_plan", "reason")}


@staff_page
def inbox(request: HttpRequest, problem: tuple[str, str] | None = None) -> HttpResponse:
    user = person(request)
    if not user.has_role(Role.HEAD):
        raise PermissionDenied
    tickets = selectors.awaiting_approval(user=user)
    rows = [(t, plan_risks(t.current_plan)) for t in tickets]
    return render(request, "web/approvals.html", {
        "nav": "approvals", "rows": rows, "problem_key": problem[0] if problem else "",
        "problem": problem[1] if problem else "", "posted": request.POST,
    }, status=422 if problem else 200)


def _at_its_row(request: HttpRequest, refusal: DomainError, key: str) -> HttpResponse:
    """The inbox again, with a refused decision at its ticket's row."""
    return inbox(request, (visible_ticket(person(request), key).key, refusal.message))


@staff_page
@require_POST
@refusals_shown_by(_at_its_row)
def decide(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    decision = DECISIONS.get(request.POST.get("decision", ""))
    if decision is None:
        return inbox(request, (ticket.key, _("Choose approve or reject.")))
    action, text_field = decision
    text = request.POST.get("text", "").strip()
    version = request.POST.get("version", "")
    services.do_transition(
        ticket_id=ticket.pk, action=action, by=user, version=positive_int(version) or 0,
        fields={text_field: text} if text else {},
    )
    done = _("%(key)s approved.") if action == "approve" else _("%(key)s rejected.")
    messages.success(request, done % {"key": ticket.key})
    return redirect("web:approvals")
