"""HTML pages. Thin: read through selectors, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opsdesk.accounts.models import User
from opsdesk.tickets import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    page = selectors.list_tickets(user=user, filters=selectors.TicketFilters(), limit=25)
    return render(request, "web/home.html", {"tickets": page.items, "roles": sorted(user.roles)})
