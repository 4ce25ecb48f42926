"""The review card's forms on the ticket page, and a person's open action items. Thin: parse,
call the service, go back to the ticket; a refusal shows the ticket page again with the
card's form as it was posted and the reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsdesk.bounds import positive_int
from opsdesk.errors import DomainError
from opsdesk.reviews import selectors, services
from opsdesk.tickets import selectors as tickets
from opsdesk.tickets.errors import NotFound
from opsdesk.tickets.models import Ticket
from opsdesk.web.views.common import person, refusals_shown_by, staff_page
from opsdesk.web.views.ticket import page_context, visible_ticket


def _back(ticket: Ticket) -> HttpResponse:
    return redirect(reverse("web:ticket", args=[ticket.key]) + "#review")


def _refused(request: HttpRequest, key: str, form: str, exc: DomainError) -> HttpResponse:
    context = page_context(request, visible_ticket(person(request), key))
    context.update(review_problem=(form, exc.message), review_posted=request.POST)
    return render(request, "web/ticket.html", context, status=exc.status)


def _review_refused(request: HttpRequest, exc: DomainError, key: str) -> HttpResponse:
    return _refused(request, key, "review", exc)


def _action_refused(request: HttpRequest, exc: DomainError, key: str) -> HttpResponse:
    return _refused(request, key, "action", exc)


def _marking_refused(request: HttpRequest, exc: DomainError, key: str,
                     item_id: int) -> HttpResponse:
    """On the ticket's card, or on the owner's list of action items (she may not read the
    ticket); an item that is not there is a page that is not there."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from exc
    if request.POST.get("from") == "list":
        messages.error(request, exc.message)
        return redirect("reviews:mine")
    return _refused(request, key, "action", exc)


def _version(request: HttpRequest) -> int:
    return positive_int(request.POST.get("version", "")) or 0


def _texts(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST[name] for name in services.TEXTS if name in request.POST}


@login_required
@require_POST
@refusals_shown_by(_review_refused)
def start(request: HttpRequest, key: str) -> HttpResponse:
    ticket = visible_ticket(person(request), key)
    services.start_review(ticket_id=ticket.pk, by=person(request))
    return _back(ticket)


@login_required
@require_POST
@refusals_shown_by(_review_refused)
def edit(request: HttpRequest, key: str) -> HttpResponse:
    ticket = visible_ticket(person(request), key)
    services.update_review(ticket_id=ticket.pk, by=person(request),
                           version=_version(request), fields=_texts(request))
    messages.success(request, _("Review saved."))
    return _back(ticket)


@login_required
@require_POST
@refusals_shown_by(_review_refused)
def summary(request: HttpRequest, key: str) -> HttpResponse:
    ticket = visible_ticket(person(request), key)
    services.regenerate_summary(ticket_id=ticket.pk, by=person(request),
                                version=_version(request))
    return _back(ticket)


@login_required
@require_POST
@refusals_shown_by(_review_refused)
def complete(request: HttpRequest, key: str) -> HttpResponse:
    """Save what the form holds, then complete: the button is on the draft's form."""
    ticket, user = visible_ticket(person(request), key), person(request)
    review = services.update_review(ticket_id=ticket.pk, by=user,
                                    version=_version(request), fields=_texts(request))
    services.complete_review(ticket_id=ticket.pk, by=user, version=review.version)
    messages.success(request, _("Review completed."))
    return _back(ticket)


@login_required
@require_POST
@refusals_shown_by(_action_refused)
def add_action(request: HttpRequest, key: str) -> HttpResponse:
    ticket = visible_ticket(person(request), key)
    services.add_action_item(ticket_id=ticket.pk, by=person(request),
                             title=request.POST.get("title", ""),
                             owner=request.POST.get("owner", ""),
                             due_at=request.POST.get("due_at") or None)
    return _back(ticket)


@login_required
@require_POST
@refusals_shown_by(_marking_refused)
def mark(request: HttpRequest, key: str, item_id: int) -> HttpResponse:
    """From the ticket's card, or from the owner's list (she may not read the ticket)."""
    user = person(request)
    item = services.mark_action_item(ticket_id=tickets.ticket_id_from_key(key),
                                     item_id=item_id, by=user,
                                     done=request.POST.get("done") == "yes",
                                     note=request.POST.get("note", ""))
    if request.POST.get("from") == "list":
        messages.success(request, _("Marked done: %s") % item.title if item.done_at
                         else _("Marked not done: %s") % item.title)
        return redirect("reviews:mine")
    return _back(item.review.ticket)


@staff_page
def my_action_items(request: HttpRequest) -> HttpResponse:
    items = selectors.open_action_items(owner=person(request))[:200]
    return render(request, "reviews/action_items.html", {"items": items})
