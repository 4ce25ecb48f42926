"""What the administration pages share: only administrators (the admin role, or Django staff)
may open them, and a form shows every problem a service found on the field it concerns."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.web.views.common import View, person


def may_administer(user: User) -> bool:
    return user.is_staff or user.has_role(Role.ADMIN)


def admin_page(view: View) -> View:
    """Administrators only; everyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_administer(person(request)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def refused(form: forms.Form, exc: ValidationError) -> None:
    """Put the service's problems on ``form``: each on its field when the form has it,
    otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class PersonChoice(forms.ModelChoiceField):
    """A person picked by name (a display name, else the username)."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username
