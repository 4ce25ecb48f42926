"""The agent workspace: queues with counts, the filter bar, keyset pages, saved views, and
a list that refreshes itself (htmx polling) so that new tickets appear without a reload. A
poll answers 204 at the cost of one indexed query while no ticket was filed or changed."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import ProblemType, User
from opsdesk.bounds import positive_int
from opsdesk.tickets import selectors
from opsdesk.tickets.choices import Priority, SourceKind, Status
from opsdesk.tickets.errors import DomainError
from opsdesk.web import queues
from opsdesk.web import selectors as web_selectors
from opsdesk.web import services as web_services
from opsdesk.web.action_forms import Choices
from opsdesk.web.rows import ticket_rows
from opsdesk.web.views.common import person, refusals_shown_by, staff_page
from opsdesk.web.views.live import unchanged
from opsdesk.web.views.search import with_hits

PAGE_SIZE = 50
BADGE_MAX = 999
ORDERS = {"-id": gettext_lazy("newest first"), "priority": gettext_lazy("most urgent first")}
# Offered while searching, and then the default.
BEST_FIRST = {"rank": gettext_lazy("best match first")}


def chosen_filters(params: QueryDict) -> selectors.TicketFilters:
    """What the person picked in the filter bar."""
    def one(name: str) -> str | None:
        return params.get(name, "").strip() or None

    return selectors.TicketFilters(
        status=[s for s in params.getlist("status") if s] or None,
        priority=[p for p in params.getlist("priority") if p] or None,
        problem_type=one("type"), module=one("module"), source_kind=one("source"),
        assignee=one("assignee"), text=one("text"),
    )


def _queue_rows(user: User, shown: list[queues.Queue]) -> list[tuple[queues.Queue, str | None]]:
    """Each queue with its badge (None for those not counted): the count, or "999+" beyond
    that, so that each page reads at most a thousand entries per queue, not every open ticket
    (100,000 open tickets took the page from 25 to 55 ms: bench/README.md, *Queues*)."""
    counted = [q for q in shown if q.counted]
    counts = selectors.count_each(user=user, filters=[q.filters for q in counted],
                                  up_to=BADGE_MAX)
    badges = {q.name: f"{BADGE_MAX}+" if n > BADGE_MAX else str(n)
              for q, n in zip(counted, counts, strict=True)}
    return [(q, badges.get(q.name)) for q in shown]


@staff_page
def workspace(request: HttpRequest) -> HttpResponse:
    user = person(request)
    # Read before the list: a ticket changed after it is seen at the next poll.
    mark = str(selectors.latest_event_id())
    if request.headers.get("HX-Request") and request.GET.get("since") == mark:
        return unchanged()
    shown = queues.queues_for(user)
    queue = next((q for q in shown if q.name == request.GET.get("queue")), shown[0])
    filters = queues.combine(queue, chosen_filters(request.GET))
    order = request.GET.get("order") or None
    if order == "rank" and not filters.text:
        order = None  # the search was cleared: the queue's own order
    cursor = request.GET.get("cursor") or None
    problem = ""
    try:
        page = selectors.list_tickets(user=user, filters=filters, order=order, cursor=cursor,
                                      limit=PAGE_SIZE, columns=queues.ROW_COLUMNS)
    except DomainError as exc:
        problem, page = exc.message, selectors.Page(items=[], next_cursor=None)
    seen = request.GET.get("seen", "")
    newest = max((t.pk for t in page.items), default=0)
    # The newest ticket when the queue was first shown: 0 when it was empty then.
    first_seen = 0 if seen == "0" else positive_int(seen) or newest
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("seen", None)
    params.pop("since", None)
    context = {
        "nav": "workspace", "queue": queue, "queue_rows": _queue_rows(user, shown),
        "rows": ticket_rows(with_hits(page.items), first_seen), "problem": problem,
        "next_url": "?" + urlencode({**params.dict(), "cursor": page.next_cursor})
        if page.next_cursor else "",
        # Only the first page refreshes itself; rows newer than the first load are marked.
        "poll_url": "" if cursor else "?" + urlencode(
            [*params.lists(), ("seen", seen or str(newest)), ("since", mark)], doseq=True),
        "query": params.urlencode(),
        "refresh_seconds": settings.OPSDESK_QUEUE_REFRESH_SECONDS,
    }
    if request.headers.get("HX-Request"):
        context["partial"] = True
        return render(request, "web/parts/queue_results.html", context)
    choices = Choices()
    context.update({
        "chosen": chosen_filters(request.GET),
        "order": order or ("rank" if filters.text else ""),
        "orders": {**BEST_FIRST, **ORDERS} if filters.text else ORDERS,
        "statuses": Status.choices,
        "priorities": [(p.code, p.label) for p in Priority], "types": ProblemType.choices,
        "sources": SourceKind.choices, "modules": choices.modules,
        "assignees": choices.assignees, "saved_views": web_selectors.saved_views(owner=user),
    })
    return render(request, "web/workspace.html", context)


def _back_to_the_queue(request: HttpRequest, refusal: DomainError) -> HttpResponse:
    messages.error(request, refusal.message)
    return _the_queue_saved(request)


def _the_queue_saved(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('web:workspace')}?{request.POST.get('query', '')}")


@staff_page
@require_POST
@refusals_shown_by(_back_to_the_queue)
def save_view(request: HttpRequest) -> HttpResponse:
    web_services.save_view(owner=person(request), name=request.POST.get("name", ""),
                           query=request.POST.get("query", ""))
    messages.success(request, _("View saved."))
    return _the_queue_saved(request)


@staff_page
@require_POST
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    web_services.delete_view(owner=person(request), view_id=view_id)
    return redirect("web:workspace")
