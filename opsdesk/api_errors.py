"""Every error answer under /api/ is JSON ``{code, message, details}`` in the caller's language,
whoever produced it: opsdesk's services, django-ninja, or Django itself (an address that does
not exist, a method an address does not take, a body too large, an unexpected exception).

A machine reads ``code``; a person reads ``message``; ``details`` says which field or limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk import field_labels
from opsdesk.rendering import json_response

log = logging.getLogger("opsdesk.api")

API_PREFIX = "/api/"
# How long a caller should wait before trying again when the database is out of reach.
RETRY_AFTER_SECONDS = 5

STATUS_ERRORS: dict[int, tuple[str, Promise]] = {
    400: ("bad_request", gettext_lazy("The request could not be read.")),
    401: ("unauthenticated", gettext_lazy(
        "Sign in, or send a valid API token as 'Authorization: Bearer <token>'.")),
    403: ("forbidden", gettext_lazy("You may not do this.")),
    404: ("not_found", gettext_lazy("There is nothing at this address.")),
    405: ("method_not_allowed", gettext_lazy("This address does not take this method.")),
    406: ("not_acceptable", gettext_lazy("This address answers only in JSON.")),
    409: ("conflict", gettext_lazy("The request conflicts with the current state.")),
    413: ("too_large", gettext_lazy("The request is too large.")),
    415: ("unsupported_media_type", gettext_lazy("This content type is not accepted here.")),
    422: ("invalid_input", gettext_lazy("The request is not valid.")),
    429: ("too_many_requests", gettext_lazy("Too many requests; try again later.")),
    500: ("server_error", gettext_lazy(
        "Something went wrong on our side. It has been logged; please try again later.")),
    503: ("unavailable", gettext_lazy(
        "The desk cannot reach its database right now; try again in a moment.")),
}


def error_response(request: HttpRequest, status: int, code: str, message: str,
                   **details: Any) -> HttpResponse:
    return json_response(request, {"code": code, "message": message, "details": details}, status)


def standard_error(request: HttpRequest, status: int, **details: Any) -> HttpResponse:
    """The error answer of ``status`` with its usual code and message."""
    code, message = STATUS_ERRORS.get(
        status, ("client_error" if status < 500 else "server_error", STATUS_ERRORS[500][1]))
    return error_response(request, status, code, str(message), **details)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The database is out of reach (restarting, locked too long, connections cut): the caller
    should retry, as Alertmanager and well-behaved clients do on a 503."""
    response = error_response(request, 503, "database_unavailable", str(STATUS_ERRORS[503][1]))
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


# The headers of an error answer a JSON rewrite must keep.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiErrorMiddleware:
    """Rewrites the error answers that Django and django-ninja give as HTML or as an empty body
    (an unknown address, a method not allowed, a body too large) as opsdesk's JSON errors."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code < 400 or not request.path.startswith(API_PREFIX)
                or response.get("Content-Type", "").startswith("application/json")
                or getattr(response, "is_page", False)):  # the API's page for people
            return response
        rewritten = standard_error(request, response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                rewritten[header] = response[header]
        return rewritten


# Pydantic's error types → what to tell a person, in their language. Anything else keeps
# pydantic's own (English) sentence.
FIELD_PROBLEMS: dict[str, Promise] = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("This field is not known here."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "string_too_short": gettext_lazy("At least %(min_length)s characters."),
    "string_type": gettext_lazy("Text is expected."),
    "int_parsing": gettext_lazy("A whole number is expected."),
    "int_type": gettext_lazy("A whole number is expected."),
    "int_from_float": gettext_lazy("A whole number is expected."),
    "float_parsing": gettext_lazy("A number is expected."),
    "float_type": gettext_lazy("A number is expected."),
    "greater_than_equal": gettext_lazy("At least %(ge)s."),
    "greater_than": gettext_lazy("More than %(gt)s."),
    "less_than_equal": gettext_lazy("At most %(le)s."),
    "less_than": gettext_lazy("Less than %(lt)s."),
    "enum": gettext_lazy("One of: %(expected)s."),
    "literal_error": gettext_lazy("One of: %(expected)s."),
    "bool_parsing": gettext_lazy("true or false is expected."),
    "bool_type": gettext_lazy("true or false is expected."),
    "datetime_parsing": gettext_lazy(
        "A date and time such as 2026-12-05T09:30:00+08:00 is expected."),
    "datetime_type": gettext_lazy(
        "A date and time such as 2026-12-05T09:30:00+08:00 is expected."),
    "datetime_from_date_parsing": gettext_lazy(
        "A date and time such as 2026-12-05T09:30:00+08:00 is expected."),
    "date_parsing": gettext_lazy("A date such as 2026-12-05 is expected."),
    "date_type": gettext_lazy("A date such as 2026-12-05 is expected."),
    "date_from_datetime_parsing": gettext_lazy("A date such as 2026-12-05 is expected."),
    "list_type": gettext_lazy("A list is expected."),
    "dict_type": gettext_lazy("An object is expected."),
    "model_type": gettext_lazy("An object is expected."),
    "model_attributes_type": gettext_lazy("An object is expected."),
    "json_invalid": gettext_lazy("The body is not valid JSON."),
    "too_long": gettext_lazy("At most %(max_length)s items."),
    "too_short": gettext_lazy("At least %(min_length)s items."),
}


def field_problem(error: dict[str, Any]) -> str:
    """One pydantic error as a sentence in the active language."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "value_error" and "error" in context:
        return str(context["error"])  # our own validators' (translated) message
    template = FIELD_PROBLEMS.get(kind)
    if template is None:
        return str(error.get("msg", ""))
    try:
        return str(template) % {key: _context_text(value) for key, value in context.items()}
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


def _context_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def invalid_input(request: HttpRequest, errors: list[dict[str, Any]]) -> HttpResponse:
    """A 422 naming each field that is wrong and why."""
    # loc starts with where the value came from (body, query, path); the rest is the field.
    problems = [
        {"field": (name := ".".join(str(part) for part in error.get("loc", ())[1:])),
         "label": field_labels.label(name) if name else "", "problem": field_problem(error)}
        for error in errors
    ]
    # The message names fields as people call them; details keep the codes for programs.
    fields = field_labels.labels(p["field"] or "?" for p in problems)
    return error_response(request, 422, "invalid_input", _("Invalid input: %s.") % fields,
                          errors=problems)
