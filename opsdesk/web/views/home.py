"""Where each person lands after signing in: the page their role works from."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from opsdesk.accounts.roles import ASSIGNABLE_ROLES, Role
from opsdesk.web.views.common import person


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = person(request)
    if user.has_role(Role.HEAD):
        return redirect("web:approvals")
    if user.has_role(Role.DUTY):
        return redirect("/tickets/?queue=unassigned")
    if user.has_role(*ASSIGNABLE_ROLES, Role.DEVELOPER, Role.OPS):
        return redirect("/tickets/?queue=mine")
    if user.has_role(Role.ADMIN) or user.is_staff:
        return redirect("web:manage")
    return redirect("web:portal")
