"""The API document says what each operation may answer when it refuses, not only when it
succeeds: every error is the same JSON shape (opsdesk/api_errors.py), and which statuses an
operation can give follows from what it takes (credentials, an address naming something, a
body, a change). The fuzz test (tests/test_api_fuzz.py) holds every answer to this document.

The document and its reading page are for the department's staff only (``staff_only``); the
page is framed by opsdesk, in the reader's language, with the way back to the workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.openapi.views import openapi_view

from opsdesk.accounts.middleware import activate_user_preferences
from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import user_for_token
from opsdesk.api_errors import standard_error

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "Stable, for machines: not_found, "
                 "invalid_input, stale_version, transition_refused …"},
        "message": {"type": "string", "description": "For people, in the caller's language."},
        "details": {"type": "object", "description": "Which field, limit or state, when it "
                    "helps: e.g. errors: [{field, problem}] for invalid input."},
    },
}

WHY = {
    400: "The body could not be read (not JSON, or not UTF-8).",
    401: "No valid credentials: a token, a signed-in session, or the integration's secret.",
    403: "The caller may not do this (role, ownership, a disabled integration, CSRF).",
    404: "Nothing the caller may see has this key or id.",
    409: "Refused by the state of things: the workflow table, or a version someone else "
         "changed since it was read (stale_version).",
    413: "The request or file is larger than allowed.",
    422: "A field is missing, unknown, of the wrong kind, too long or out of range.",
    500: "A bug on opsdesk's side; it is logged.",
    503: "The database cannot be reached right now; retry after Retry-After seconds.",
    507: "The server's storage is full; nothing was kept.",
}
UNSAFE = frozenset({"post", "put", "patch", "delete"})


class DocumentedAPI(NinjaAPI):
    """django-ninja's API whose document lists the error answers of every operation."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                for status in error_statuses(path, method, operation):
                    if status in responses or str(status) in responses:
                        continue  # the operation documents it itself
                    responses[status] = {
                        "description": WHY[status],
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}},
                    }
        return schema


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses ``operation`` may answer, from what it takes."""
    places = {parameter["in"] for parameter in operation.get("parameters", ())}
    body = operation.get("requestBody", {}).get("content", {})
    # Intake reads the sender's body as it comes and authenticates by the integration's
    # secret rather than the API's schemes.
    intake = "/intake/" in path
    guarded = bool(operation.get("security")) or intake
    statuses = {500, 503}
    if guarded:
        statuses |= {401, 403}
    if "path" in places:
        statuses.add(404)
    if places or body or intake:
        statuses.add(422)
    if body or intake:
        statuses |= {400, 413}
    if "multipart/form-data" in body:
        statuses.add(507)
    if method in UNSAFE and guarded:
        statuses.add(409)
    return sorted(statuses)


class OpsdeskSwagger(Swagger):
    """Swagger UI inside opsdesk's bar: its name, the reader's language, the way back."""

    template = "web/api_docs.html"


def _reader(request: HttpRequest) -> User | None:
    """Who is asking: the signed-in session, else the owner of a bearer token."""
    if isinstance(request.user, User) and request.user.is_authenticated:
        return request.user
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = user_for_token(token.strip())
    if user is not None:
        activate_user_preferences(user)
    return user


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API's document and its page are for department staff (a signed-in session or a
    staff member's token): they describe every operation, the intake endpoints included, and
    submitters file through the pages. The page sends a stranger to sign in and shows
    others opsdesk's 403 page; the document answers 401/403 in the API's error shape.
    (django-ninja's ``docs_decorator``: it wraps both views, told apart here.)"""
    is_page = getattr(view, "func", None) is openapi_view

    @wraps(view)
    def guarded(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        user = _reader(request)
        if user is not None and user.is_department_staff:
            return view(request, **kwargs)
        if not is_page:
            return standard_error(request, 401 if user is None else 403)
        if user is None:
            return redirect_to_login(request.get_full_path())
        refused = render(request, "403.html", status=403)
        refused.is_page = True  # type: ignore[attr-defined]  # kept as HTML (api_errors)
        return refused

    return guarded
