"""What every page needs: the signed-in person, and who may open staff pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from opsdesk.accounts.models import User

View = Callable[..., HttpResponse]


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
