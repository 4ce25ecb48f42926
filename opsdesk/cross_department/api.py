"""The cross-department request form as an API: thin, the rules are in the service."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from opsdesk.accounts.models import User
from opsdesk.bounds import Day
from opsdesk.cross_department import services
from opsdesk.cross_department.models import CrossDepartmentRequest
from opsdesk.tickets.choices import Channel
from opsdesk.tickets.schemas import Input

router = Router(tags=["requests"])


class CrossDepartmentIn(Input):
    department: str = Field(..., max_length=100, description="The requesting department.")
    needed: str = Field(..., description="What is needed.")
    business_reason: str
    desired_date: Day
    contact: str = Field("", max_length=200, description="Default: the requester's phone/email.")
    title: str = Field("", max_length=200, description="Default: the first line of 'needed'.")


class RequestTicket(Schema):
    key: str
    title: str
    status: str
    priority: str
    source_kind: str
    problem_type: str


class CrossDepartmentOut(Schema):
    id: int
    department: str
    needed: str
    business_reason: str
    desired_date: date
    contact: str
    ticket: RequestTicket

    @staticmethod
    def resolve_ticket(obj: CrossDepartmentRequest) -> dict[str, Any]:
        ticket = obj.ticket
        return {"key": ticket.key, "title": ticket.title, "status": ticket.status,
                "priority": ticket.priority_code, "source_kind": ticket.source_kind,
                "problem_type": ticket.problem_type}


@router.post(
    "/requests/cross-department", response={201: CrossDepartmentOut},
    summary="Request work from the technical department (a requirement ticket)",
)
def submit(request: HttpRequest, payload: CrossDepartmentIn) -> Status[Any]:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    channel = Channel.WEB if getattr(request, "via_session", False) else Channel.API
    submitted = services.submit_request(by=user, channel=channel, **payload.dict())
    submitted.ticket.refresh_from_db()  # routing may have assigned it meanwhile
    return Status(201, submitted)
