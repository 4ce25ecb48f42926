"""The emergencies API: declare (on a ticket or from scratch), post status updates, read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from opsdesk.accounts.models import User
from opsdesk.bounds import Moment
from opsdesk.emergencies import selectors, services
from opsdesk.emergencies.models import Emergency
from opsdesk.tickets import selectors as tickets
from opsdesk.tickets.choices import Channel, Impact, Urgency
from opsdesk.tickets.errors import NotFound, PermissionRefused
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.schemas import Input, UserRef

router = Router(tags=["emergencies"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


class DeclareIn(Input):
    reason: str = Field(..., description="Why the business is stopped.")


class DeclareNewIn(Input):
    title: str = Field(..., min_length=1, max_length=200)
    reason: str
    description: str = ""
    module: str | None = None
    impact: Impact = Impact.ALL_USERS
    urgency: Urgency = Urgency.IMMEDIATE


class StatusUpdateIn(Input):
    message: str
    next_update_at: Moment | None = Field(
        None, description="When the next update will come: in the future, before 2100.")


class EmergencyOut(Schema):
    key: str
    title: str
    priority: str
    status: str
    reason: str
    declared_by: UserRef
    declared_at: datetime
    from_scratch: bool
    last_update_at: datetime | None
    next_update_at: datetime | None

    @staticmethod
    def resolve_key(obj: Emergency) -> str:
        return obj.ticket.key

    @staticmethod
    def resolve_title(obj: Emergency) -> str:
        return obj.ticket.title

    @staticmethod
    def resolve_priority(obj: Emergency) -> str:
        return obj.ticket.priority_code

    @staticmethod
    def resolve_status(obj: Emergency) -> str:
        return obj.ticket.status

    @staticmethod
    def resolve_declared_by(obj: Emergency) -> dict[str, Any] | None:
        return UserRef.of(obj.declared_by)


class StatusUpdateOut(Schema):
    id: int
    at: datetime
    message: str
    next_update_at: datetime | None

    @staticmethod
    def resolve_message(obj: TimelineEvent) -> str:
        return str(obj.data["message"])

    @staticmethod
    def resolve_next_update_at(obj: TimelineEvent) -> str | None:
        return obj.data.get("next_update_at")


def _channel(request: HttpRequest) -> str:
    return Channel.WEB if getattr(request, "via_session", False) else Channel.API


@router.post("/emergencies", response={201: EmergencyOut}, summary="Declare a new emergency")
def declare_new(request: HttpRequest, payload: DeclareNewIn) -> Status[Emergency]:
    emergency = services.declare_new(by=_user(request), channel=_channel(request),
                                     **payload.dict())
    emergency.ticket.refresh_from_db()  # routing assigned it meanwhile
    return Status(201, emergency)


@router.get("/emergencies", response=list[EmergencyOut], summary="Open emergencies")
def list_open(request: HttpRequest) -> Any:
    if not _user(request).is_department_staff:
        raise PermissionRefused(_("The list of emergencies is for department staff."))
    return selectors.open_emergencies()


@router.post("/tickets/{key}/emergency", response={201: EmergencyOut},
             summary="Declare an emergency on a ticket")
def declare(request: HttpRequest, key: str, payload: DeclareIn) -> Status[Emergency]:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    emergency = services.declare_on_ticket(ticket_id=ticket.pk, by=user, reason=payload.reason)
    emergency.ticket.refresh_from_db()
    return Status(201, emergency)


@router.get("/tickets/{key}/emergency", response=EmergencyOut, summary="The ticket's emergency")
def get_emergency(request: HttpRequest, key: str) -> Emergency:
    ticket = tickets.get_ticket(user=_user(request), key=key)
    emergency = selectors.get_emergency(ticket)
    if emergency is None:
        raise NotFound(_("No emergency is declared on this ticket."))
    emergency.ticket = ticket
    return emergency


@router.post("/tickets/{key}/status-updates", response={201: StatusUpdateOut},
             summary="Post a status update to the emergency's stakeholders")
def post_update(request: HttpRequest, key: str, payload: StatusUpdateIn) -> Status[Any]:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    event = services.post_status_update(
        ticket_id=ticket.pk, by=user, message=payload.message,
        next_update_at=payload.next_update_at,
    )
    return Status(201, event)
