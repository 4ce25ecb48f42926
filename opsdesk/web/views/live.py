"""What an open page asks every few seconds (htmx polling, web/static/web/live.js): "has
anything changed since what I show?" The answer is cheap when nothing has (204, no body, one
or two indexed queries), so that many open pages cost little; when something has, a small
fragment says so and the page fetches what changed. Each answer checks who may see it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from opsdesk.tickets import selectors
from opsdesk.tickets.errors import NotFound
from opsdesk.web.views.common import person

Fragment = Callable[..., HttpResponse]


def unchanged() -> HttpResponse:
    """Nothing new: htmx leaves the page as it is and asks again at the next tick."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


def polled(view: Fragment) -> Fragment:
    """A fragment an open page polls: GET only, never cached, and for a visitor no longer
    signed in a bare 401 rather than the sign-in page swapped into the page."""

    @require_GET
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponse(status=401)
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def live_seconds() -> int:
    """How often an open page asks (the queue's setting: one rhythm for the whole UI)."""
    return int(settings.OPSDESK_QUEUE_REFRESH_SECONDS)


@polled
def ticket_changes(request: HttpRequest, key: str) -> HttpResponse:
    """204 while the ticket reads as the page's ``since`` mark; otherwise the live marker with
    the new mark, which the page's script turns into a refresh (or a notice, when the person is
    typing). 404 for a ticket the person may not read, as its page answers."""
    try:
        mark = selectors.current_change_mark(user=person(request), key=key)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.GET.get("since") == mark:
        return unchanged()
    return render(request, "web/parts/ticket_live.html", {
        "key": key, "mark": mark, "changed": True, "live_seconds": live_seconds()})
