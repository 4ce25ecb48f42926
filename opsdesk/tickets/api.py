"""The tickets API: thin handlers that parse, call a service or selector, and shape the answer."""

from __future__ import annotations

from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja import Status as Reply
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from opsdesk.accounts.models import ProblemType, User
from opsdesk.accounts.selectors import get_user_by_ref
from opsdesk.bounds import Id
from opsdesk.rendering import json_response
from opsdesk.tickets import answers, policy, selectors, services, uploads
from opsdesk.tickets.choices import Channel, SourceKind, Status
from opsdesk.tickets.docs import workflow_as_data
from opsdesk.tickets.errors import InvalidField
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.schemas import (
    ActionOut,
    AttachmentOut,
    CollaboratorsIn,
    CommentIn,
    CommentOut,
    DecisionIn,
    EventOut,
    FormFlag,
    LinkIn,
    LinkOut,
    PriorityCode,
    RecurrenceIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketUpdateIn,
    TimeTakenOut,
    TransitionIn,
    UserRef,
    VerifyIn,
    WorkLogIn,
    WorkLogOut,
)

router = Router(tags=["tickets"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _answer(request: HttpRequest, ticket: Ticket, status: int = 200, *,
            new: bool = False) -> HttpResponse:
    """The ticket as ``schemas.TicketOut`` documents it (see ``answers``)."""
    return json_response(request, answers.ticket_detail(_user(request), ticket, new=new), status)


def _reload(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    return _answer(request, selectors.get_ticket(user=_user(request), key=str(ticket.pk)))


class ListParams(Schema):
    status: list[Status] | None = None
    priority: list[PriorityCode] | None = None
    assignee: str | None = Field(None, description="Username or id.")
    module: str | None = Field(None, description="Code, name or id.")
    problem_type: ProblemType | None = None
    source: SourceKind | None = None
    submitter: str | None = Field(None, description="Username or id.")
    text: str | None = Field(
        None, max_length=200,
        description="Words to search for in the title, description, comments, work log and "
                    "resolution report (Chinese or English; every word must occur), or a key.")
    sla: Literal["at_risk", "breached"] | None = None
    order: Literal["-id", "id", "priority", "due", "rank"] | None = Field(
        None, description="-id (newest first, the default), id, priority; due (the default "
                          "of an SLA queue, and only there); rank (best match first, the "
                          "default with text, and only there).")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, description="1 to 200; more is taken as 200.")


@router.post("/tickets", response={201: TicketOut}, summary="Register a problem")
def create_ticket(request: HttpRequest, payload: TicketIn) -> HttpResponse:
    user = _user(request)
    data = payload.dict(exclude_none=True)
    submitter_ref = data.pop("submitter", None)
    submitter = None
    if submitter_ref is not None:
        submitter = get_user_by_ref(submitter_ref)
        if submitter is None:
            raise InvalidField(f"submitter: {submitter_ref}", field="submitter")
    default_channel = Channel.WEB if getattr(request, "via_session", False) else Channel.API
    data["channel"] = data.get("channel") or default_channel
    ticket = services.create_ticket(by=user, submitter=submitter, **data)
    # The service's ticket holds what the answer shows (with its routing and SLA clock when
    # dispatched inline), so it is not read back.
    return _answer(request, ticket, 201, new=True)


@router.get("/tickets", response=TicketPage, summary="List tickets (keyset pages)")
def list_tickets(request: HttpRequest, params: Query[ListParams]) -> HttpResponse:
    filters = selectors.TicketFilters(
        status=params.status, priority=params.priority, assignee=params.assignee,
        module=params.module, problem_type=params.problem_type, source_kind=params.source,
        submitter=params.submitter,
        text=params.text, sla=params.sla,
    )
    page = selectors.list_tickets(
        user=_user(request), filters=filters, order=params.order, cursor=params.cursor,
        limit=params.limit, columns=answers.LISTED_COLUMNS,
    )
    return json_response(request, answers.ticket_page(page))


@router.get("/tickets/{key}", response=TicketOut, summary="Read a ticket")
def get_ticket(request: HttpRequest, key: str) -> HttpResponse:
    return _answer(request, selectors.get_ticket(user=_user(request), key=key))


@router.patch("/tickets/{key}", response=TicketOut, summary="Change fields")
def update_ticket(request: HttpRequest, key: str, payload: TicketUpdateIn) -> HttpResponse:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    ticket = services.update_ticket(
        ticket_id=ticket.pk, by=user, version=payload.version, fields=payload.fields
    )
    return _reload(request, ticket)


@router.get("/tickets/{key}/actions", response=list[ActionOut], summary="Actions you may take now")
def list_actions(request: HttpRequest, key: str) -> list[dict[str, Any]]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    return [answers.describe_action(t, ticket) for t in policy.available_actions(user, ticket)]


@router.post("/tickets/{key}/transitions", response=TicketOut, summary="Take a workflow action")
def transition(request: HttpRequest, key: str, payload: TransitionIn) -> HttpResponse:
    return _act(request, key, payload.action, payload.version, payload.fields)


def _act(request: HttpRequest, key: str, action: str, version: int,
         fields: dict[str, Any]) -> HttpResponse:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    ticket = services.do_transition(
        ticket_id=ticket.pk, action=action, by=user, version=version, fields=fields
    )
    return _reload(request, ticket)


@router.post("/tickets/{key}/approve", response=TicketOut, summary="Approve the plan (head)")
def approve(request: HttpRequest, key: str, payload: DecisionIn) -> HttpResponse:
    fields = {"comment": payload.reason} if payload.reason else {}
    return _act(request, key, "approve", payload.version, fields)


@router.post("/tickets/{key}/reject", response=TicketOut, summary="Reject the plan (head)")
def reject(request: HttpRequest, key: str, payload: DecisionIn) -> HttpResponse:
    return _act(request, key, "reject_plan", payload.version, {"reason": payload.reason})


@router.post("/tickets/{key}/escalate", response=TicketOut, summary="Escalate to the head")
def escalate(request: HttpRequest, key: str, payload: DecisionIn) -> HttpResponse:
    return _act(request, key, "escalate", payload.version, {"reason": payload.reason})


@router.post("/tickets/{key}/verify", response=TicketOut, summary="Confirm or reject the fix")
def verify(request: HttpRequest, key: str, payload: VerifyIn) -> HttpResponse:
    if payload.accepted:
        fields = {"comment": payload.reason} if payload.reason else {}
        return _act(request, key, "confirm", payload.version, fields)
    return _act(request, key, "reject_fix", payload.version, {"reason": payload.reason})


@router.post(
    "/tickets/{key}/worklog", response={201: WorkLogOut}, summary="Record an executed step"
)
def add_work_log_step(request: HttpRequest, key: str, payload: WorkLogIn) -> Reply[Any]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    step = services.add_work_log_step(
        ticket_id=ticket.pk, by=user, **payload.dict(exclude_none=True)
    )
    return Reply(201, step)


@router.get("/tickets/{key}/worklog", response=list[WorkLogOut], summary="The work log")
def list_work_log(request: HttpRequest, key: str) -> Any:
    user = _user(request)
    return selectors.work_log(user=user, ticket=selectors.get_ticket(user=user, key=key))


@router.post("/tickets/{key}/comments", response={201: CommentOut}, summary="Comment")
def add_comment(request: HttpRequest, key: str, payload: CommentIn) -> Reply[Any]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    comment = services.add_comment(
        ticket_id=ticket.pk, by=user, body=payload.body, internal=payload.internal
    )
    return Reply(201, comment)


@router.post("/tickets/{key}/collaborators", response=TicketOut, summary="Change collaborators")
def set_collaborators(request: HttpRequest, key: str, payload: CollaboratorsIn) -> HttpResponse:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    services.set_collaborators(ticket_id=ticket.pk, by=user, add=payload.add, remove=payload.remove)
    return _reload(request, ticket)


@router.get("/tickets/{key}/links", response=list[LinkOut], summary="Linked tickets")
def list_links(request: HttpRequest, key: str) -> list[dict[str, Any]]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    return [_link_out(view) for view in selectors.links_of(user=user, ticket=ticket)]


@router.post("/tickets/{key}/links", response={201: LinkOut},
             summary="Link to another ticket (staff)")
def add_link(request: HttpRequest, key: str, payload: LinkIn) -> Reply[dict[str, Any]]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    link = services.link_tickets(ticket_id=ticket.pk, by=user, other=payload.ticket,
                                 kind=payload.kind)
    view = next(v for v in selectors.links_of(user=user, ticket=ticket) if v.link.pk == link.pk)
    return Reply(201, _link_out(view))


@router.delete("/tickets/{key}/links/{link_id}", response={204: None},
               summary="Remove a link (staff)")
def remove_link(request: HttpRequest, key: str, link_id: Id) -> Reply[None]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    services.unlink_tickets(ticket_id=ticket.pk, by=user, link_id=link_id)
    return Reply(204, None)


def _link_out(view: selectors.LinkView) -> dict[str, Any]:
    other = view.other
    return {
        "id": view.link.pk, "kind": view.link.kind, "direction": view.direction,
        "label": view.label,
        "ticket": {"key": other.key, "title": other.title if view.other_visible else None,
                   "status": other.status if view.other_visible else None},
        "created_by": UserRef.of(view.link.created_by), "created_at": view.link.created_at,
    }


@router.post("/tickets/{key}/recurrence", response={201: TicketOut},
             summary="It happened again: a new ticket linked as a recurrence")
def report_recurrence(request: HttpRequest, key: str, payload: RecurrenceIn) -> HttpResponse:
    user = _user(request)
    original = selectors.get_ticket(user=user, key=key)
    default_channel = Channel.WEB if getattr(request, "via_session", False) else Channel.API
    ticket = services.report_recurrence(ticket_id=original.pk, by=user, channel=default_channel,
                                        **payload.dict(exclude_none=True))
    return _answer(request, ticket, 201, new=True)


@router.get("/tickets/{key}/time-taken", response=TimeTakenOut,
            summary="Time taken: logged overall (per person for staff), and each reported "
                    "figure")
def time_taken(request: HttpRequest, key: str) -> dict[str, Any]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    spent = selectors.time_taken(user=user, ticket=ticket)
    return {
        "logged_minutes": spent.logged_minutes,
        "by_person": [{"person": UserRef.of(p.person), "minutes": p.minutes}
                      for p in spent.by_person],
        "steps_without_duration": spent.steps_without_duration,
        "reported": [{**figure, "by": UserRef.of(figure["by"])} for figure in spent.reported],
        "reported_minutes": ticket.time_taken_minutes,
    }


@router.get("/tickets/{key}/timeline", response=list[EventOut], summary="The ticket's timeline")
def timeline(request: HttpRequest, key: str) -> Any:
    user = _user(request)
    return selectors.timeline(user=user, ticket=selectors.get_ticket(user=user, key=key))


@router.post(
    "/tickets/{key}/attachments", response={201: AttachmentOut}, summary="Attach a file"
)
@decorate_view(uploads.refused_at_once)
def add_attachment(
    request: HttpRequest, key: str, file: File[UploadedFile],
    # django-ninja's way to give a form field of a validated type its default.
    internal: FormFlag = Form(False),  # noqa: B008
) -> Reply[Any]:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    attachment = services.add_attachment(
        ticket_id=ticket.pk, by=user, name=file.name or "", content=file,
        content_type=file.content_type or "", internal=internal,
    )
    return Reply(201, attachment)


@router.get("/tickets/{key}/attachments", response=list[AttachmentOut], summary="The files")
def list_attachments(request: HttpRequest, key: str) -> Any:
    user = _user(request)
    return selectors.attachments_for(user=user, ticket=selectors.get_ticket(user=user, key=key))


@router.get("/tickets/{key}/attachments/{attachment_id}", summary="Download a file")
def download_attachment(request: HttpRequest, key: str, attachment_id: Id) -> FileResponse:
    user = _user(request)
    ticket = selectors.get_ticket(user=user, key=key)
    attachment = selectors.get_attachment(user=user, ticket=ticket, attachment_id=attachment_id)
    # Always a download, never rendered by the browser: a user's HTML or SVG must not run
    # in opsdesk's origin.
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@router.get("/workflow", summary="The workflow table", auth=None)
def workflow_table(request: HttpRequest) -> dict[str, Any]:
    return workflow_as_data()
