"""The JSON API at /api/v1/: authentication, error format, and the routers of each app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from opsdesk.accounts.api import router as accounts_router
from opsdesk.accounts.middleware import activate_user_preferences
from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import user_for_token
from opsdesk.cross_department.api import router as cross_department_router
from opsdesk.emergencies.api import router as emergencies_router
from opsdesk.inspections.api import router as inspections_router
from opsdesk.intake.api import router as intake_router
from opsdesk.rendering import RENDERER
from opsdesk.reports.api import router as reports_router
from opsdesk.tickets.api import router as tickets_router
from opsdesk.tickets.errors import DomainError


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` for machines (see ``opsdesk token create``)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
            activate_user_preferences(user)
        return user


class BrowserSession(SessionAuth):
    """The signed-in browser session; CSRF is enforced on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        if isinstance(user, User):
            request.via_session = True  # type: ignore[attr-defined]
            return user
        return None


api = NinjaAPI(
    renderer=RENDERER,
    title="opsdesk API",
    version="1",
    urls_namespace="api-v1",
    docs_url="/docs",
    auth=[TokenAuth(), BrowserSession()],
)
api.add_router("/", tickets_router)
api.add_router("/", accounts_router)
api.add_router("/", intake_router)
api.add_router("/", inspections_router)
api.add_router("/", cross_department_router)
api.add_router("/", emergencies_router)
api.add_router("/", reports_router)


def _error(request: HttpRequest, status: int, code: str, message: str,
           **details: Any) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details}, status=status
    )


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, **exc.details)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "problem": e.get("msg", "")}
        for e in exc.errors
    ]
    fields = ", ".join(p["field"] or "?" for p in problems)
    return _error(request, 422, "invalid_input", _("Invalid input: %s.") % fields,
                  errors=problems)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated",
                  _("Sign in, or send a valid API token as 'Authorization: Bearer <token>'."))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "csrf_failed" if exc.status_code == 403 else "http_error"
    return _error(request, exc.status_code, code, str(exc))


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
