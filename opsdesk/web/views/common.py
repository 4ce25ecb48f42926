"""What every page needs: the signed-in person, who may open staff pages, and how a page answers
a service's refusal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from opsdesk.accounts.models import User
from opsdesk.tickets.errors import DomainError

View = Callable[..., HttpResponse]
# Answers a refusal: (request, the DomainError, the view's own URL arguments) -> the response.
Refusal = Callable[..., HttpResponse]


def person(request: HttpRequest) -> User:
    """The signed-in user (views are wrapped in ``login_required``)."""
    user = request.user
    assert isinstance(user, User)
    return user


def staff_page(view: View) -> View:
    """Department staff only (A–F and admins); submitters get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not person(request).is_department_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def refusals_shown_by(show: Refusal) -> Callable[[View], View]:
    """For a view that lets a service's refusal (a ``DomainError``) rise rather than catching
    it: the answer is then ``show(request, refusal, *args, **kwargs)``, with the view's own URL
    arguments: the page again with the refusal where the person acted, or a message on the
    page they are sent back to. Put it under ``login_required`` and ``require_POST``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except DomainError as refusal:
                return show(request, refusal, *args, **kwargs)

        return wrapper

    return decorate
