"""Error pages in opsdesk's own look and the reader's language."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form that did not come from an opsdesk page (or an expired one) is refused."""
    return render(request, "web/csrf_failure.html", status=403)
