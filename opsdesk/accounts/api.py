"""Directory endpoints: modules with their owners and support engineers, and staff to assign."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from opsdesk.accounts import selectors
from opsdesk.accounts.models import User
from opsdesk.tickets.errors import PermissionRefused

router = Router(tags=["directory"])


class PersonOut(Schema):
    id: int
    username: str
    name: str
    department: str
    roles: list[str]


class SupportOut(Schema):
    problem_type: str
    engineer: PersonOut


class ModuleOut(Schema):
    id: int
    code: str
    name: str
    description: str
    owner: PersonOut
    support: list[SupportOut]


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "name": str(user),
            "department": user.department, "roles": sorted(user.roles)}


@router.get("/modules", response=list[ModuleOut], summary="Modules, owners, support engineers")
def list_modules(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": m.pk, "code": m.code, "name": m.name, "description": m.description,
         "owner": _person(m.owner),
         "support": [{"problem_type": s.problem_type, "engineer": _person(s.engineer)}
                     for s in m.support.all()]}
        for m in selectors.list_modules()
    ]


@router.get("/staff", response=list[PersonOut], summary="Department staff and their roles")
def list_staff(request: HttpRequest, role: str | None = None) -> list[dict[str, Any]]:
    user = request.auth  # type: ignore[attr-defined]
    if not user.is_department_staff:
        raise PermissionRefused(_("Only department staff may see the staff list."))
    return [_person(u) for u in selectors.list_staff(role=role)]
