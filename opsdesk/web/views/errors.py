"""Error pages in opsdesk's own look and the reader's language."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from opsdesk.api_errors import RETRY_AFTER_SECONDS

log = logging.getLogger("opsdesk.web")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form that did not come from an opsdesk page (or an expired one) is refused."""
    return render(request, "web/csrf_failure.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """What a page answers when it failed (Django's handler500). A database out of reach is a
    503 that says to try again and reloads itself, not an error; anything else is a 500.
    Neither page uses the site's frame: it would read the signed-in person from the database
    that may just have failed."""
    failure = sys.exc_info()[1]
    if isinstance(failure, OperationalError | InterfaceError):
        log.warning("database unavailable for %s %s: %s", request.method, request.path, failure)
        page = render_to_string("web/unavailable.html", {"retry_after": RETRY_AFTER_SECONDS},
                                request=request)
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(render_to_string("web/server_error.html", request=request), status=500)
