"""The pages the one-click links in a "please verify" mail open: confirm the fix, or say it is
not fixed and why. No password: the signed link is the credential (notify/verification.py).
Opening a page changes nothing, so a mail scanner that follows links cannot answer for her;
only the page's form does."""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from opsdesk.notify import verification
from opsdesk.tickets.errors import DomainError, InvalidField


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "web/verify.html", context, status=status)
    # The address holds the credential: never sent on as a referrer, never kept in a cache.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    found = verification.read(token)
    if found is None:
        return _page(request, {"state": "invalid"}, status=400)
    person = found.link.recipient
    with contextlib.ExitStack() as reader:
        # In the submitter's own language and zone when she has an account that says them.
        if person is not None and person.language:
            reader.enter_context(translation.override(person.language))
        if person is not None and person.time_zone:
            reader.enter_context(timezone.override(person.time_zone))
        context: dict[str, Any] = {"state": "ask", "answer": found, "ticket": found.ticket}
        if request.method != "POST":
            return _page(request, context)
        reason = request.POST.get("reason", "")
        try:
            ticket = verification.answer(token=token, reason=reason)
        except InvalidField as exc:
            return _page(request, {**context, "error": exc.message, "reason": reason},
                         status=exc.status)
        except DomainError:
            return _page(request, {"state": "invalid"}, status=409)
        return _page(request, {"state": "confirmed" if found.confirms else "not_fixed",
                               "ticket": ticket})
