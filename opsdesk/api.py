"""The JSON API at /api/v1/: authentication, error format, and the routers of each app."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from opsdesk.accounts.api import router as accounts_router
from opsdesk.accounts.middleware import activate_user_preferences
from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import user_for_token
from opsdesk.api_errors import (
    database_unavailable,
    error_response,
    invalid_input,
    standard_error,
)
from opsdesk.cross_department.api import router as cross_department_router
from opsdesk.emergencies.api import router as emergencies_router
from opsdesk.errors import DomainError
from opsdesk.inspections.api import router as inspections_router
from opsdesk.intake.api import router as intake_router
from opsdesk.knowledge.api import router as knowledge_router
from opsdesk.notify.api import router as notify_router
from opsdesk.openapi import DocumentedAPI, OpsdeskSwagger, staff_only
from opsdesk.rendering import RENDERER
from opsdesk.reports.api import router as reports_router
from opsdesk.reviews.api import router as reviews_router
from opsdesk.tickets.api import router as tickets_router

log = logging.getLogger("opsdesk.api")


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` for machines (see ``opsdesk token create``)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
            activate_user_preferences(user)
        return user


class BrowserSession(SessionAuth):
    """The signed-in browser session; CSRF is enforced on unsafe methods.

    Without a signed-in session there is nothing for CSRF to protect: a call with a missing,
    wrong or revoked token is then answered 401, not 403 ``csrf_failed``."""

    def __call__(self, request: HttpRequest) -> User | None:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        if isinstance(user, User):
            request.via_session = True  # type: ignore[attr-defined]
            return user
        return None


api = DocumentedAPI(
    renderer=RENDERER,
    title="opsdesk API",
    version="1",
    urls_namespace="api-v1",
    docs_url="/docs",
    docs=OpsdeskSwagger(),
    docs_decorator=staff_only,
    auth=[TokenAuth(), BrowserSession()],
)
# Before the tickets' router: its /tickets/{key} would take /tickets/similar.
api.add_router("/", knowledge_router)
api.add_router("/", tickets_router)
api.add_router("/", accounts_router)
api.add_router("/", intake_router)
api.add_router("/", inspections_router)
api.add_router("/", cross_department_router)
api.add_router("/", emergencies_router)
api.add_router("/", reports_router)
api.add_router("/", notify_router)
api.add_router("/", reviews_router)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, **exc.details)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return invalid_input(request, list(exc.errors))


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return standard_error(request, 401)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return standard_error(request, 404)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja's own refusals, in its English: said again in the caller's language.
    if isinstance(exc.__cause__, RequestDataTooBig):
        return standard_error(request, 413)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | UnicodeDecodeError):
        return error_response(request, 400, "invalid_json", _("The body is not valid JSON."))
    if exc.status_code == 403:
        return error_response(request, 403, "csrf_failed", _(
            "This request came without the page's security token (CSRF); reload the page "
            "and try again."))
    return standard_error(request, exc.status_code)


@api.exception_handler(MultiPartParserError)
def unreadable_form(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return standard_error(request, 400)


@api.exception_handler(SuspiciousOperation)
def suspicious_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Django's refusals of a body it will not read: too large, too many fields or files.
    return standard_error(request, 413 if isinstance(exc, RequestDataTooBig) else 400)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    log.warning("database unavailable for %s %s: %s", request.method, request.path, exc)
    return database_unavailable(request)


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("%s %s failed", request.method, request.path, exc_info=exc)
    return standard_error(request, 500)


@api.get("/ping", auth=None, summary="No-op: for health checks and the benchmark ceiling")
def ping(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


@api.get("/me", summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    return {
        "id": user.pk, "username": user.username, "name": str(user),
        "roles": sorted(user.roles), "language": user.language, "time_zone": user.time_zone,
    }
