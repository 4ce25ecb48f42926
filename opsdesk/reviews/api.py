"""The reviews API: a ticket's post-incident review (GET, start, edit, generate the summary
again, complete) and its action items (add, mark done or not done), and the action items a
person owns. Thin handlers: parse, call a service or selector, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from opsdesk.accounts.models import User
from opsdesk.bounds import Id
from opsdesk.reviews import selectors, services
from opsdesk.reviews.models import ActionItem, Review
from opsdesk.tickets import selectors as tickets
from opsdesk.tickets.effects import needs_review
from opsdesk.tickets.errors import NotFound
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.schemas import Input, UserRef

router = Router(tags=["reviews"])
TEXT = Field(None, max_length=services.MAX_TEXT)


class ReviewIn(Input):
    timeline_summary: str | None = Field(None, max_length=services.MAX_TEXT, description=(
        "Left out when starting: generated from the ticket."))
    root_cause: str | None = TEXT
    went_well: str | None = TEXT
    went_badly: str | None = TEXT


class ReviewEditIn(ReviewIn):
    version: int = Field(description="The review's version you read.")


class VersionIn(Input):
    version: int


class ActionItemIn(Input):
    title: str = Field(max_length=300)
    owner: str = Field(max_length=150, description="Username or id of department staff.")
    due_at: datetime


class ActionItemMarkIn(Input):
    done: bool
    note: str = Field("", max_length=services.MAX_TEXT, description="What was done.")


class ActionItemOut(Schema):
    id: int
    title: str
    owner: UserRef
    due_at: datetime
    overdue: bool
    done_at: datetime | None
    done_by: UserRef | None
    done_note: str


class ReviewOut(Schema):
    ticket: str
    required: bool = Field(description="The ticket is archived only once it is complete.")
    status: str = Field(description="draft or complete")
    timeline_summary: str
    root_cause: str
    went_well: str
    went_badly: str
    author: UserRef
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    completed_by: UserRef | None
    version: int
    action_items: list[ActionItemOut]


class OwnedItemOut(ActionItemOut):
    ticket: str
    ticket_title: str


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _ticket(request: HttpRequest, key: str) -> Ticket:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    selectors.require_read(user, ticket)
    return ticket


def _item(item: ActionItem, now: datetime | None = None) -> dict[str, Any]:
    return {"id": item.pk, "title": item.title, "owner": UserRef.of(item.owner),
            "due_at": item.due_at, "done_at": item.done_at,
            "overdue": item.done_at is None and item.due_at <= (now or timezone.now()),
            "done_by": UserRef.of(item.done_by), "done_note": item.done_note}


def _review(ticket: Ticket) -> dict[str, Any]:
    review: Review | None = selectors.review_of(ticket)
    if review is None:
        raise NotFound(_("%s has no post-incident review yet.") % ticket.key,
                       required=needs_review(ticket))
    return {
        "ticket": ticket.key, "required": needs_review(ticket),
        "status": "complete" if review.is_complete else "draft",
        **{name: getattr(review, name) for name in services.TEXTS},
        "author": UserRef.of(review.author), "created_at": review.created_at,
        "updated_at": review.updated_at, "completed_at": review.completed_at,
        "completed_by": UserRef.of(review.completed_by), "version": review.version,
        "action_items": [_item(i) for i in review.action_items.all()],
    }


@router.get("/tickets/{key}/review", response=ReviewOut,
            summary="A ticket's post-incident review (department staff)")
def get_review(request: HttpRequest, key: str) -> dict[str, Any]:
    return _review(_ticket(request, key))


@router.post("/tickets/{key}/review", response={201: ReviewOut},
             summary="Start the post-incident review, its timeline summary generated")
def start_review(request: HttpRequest, key: str,
                 payload: ReviewIn) -> Status[dict[str, Any]]:
    ticket = _ticket(request, key)
    services.start_review(ticket_id=ticket.pk, by=_user(request),
                          fields=payload.dict(exclude_none=True))
    return Status(201, _review(ticket))


@router.patch("/tickets/{key}/review", response=ReviewOut, summary="Edit a draft review")
def update_review(request: HttpRequest, key: str, payload: ReviewEditIn) -> dict[str, Any]:
    ticket = _ticket(request, key)
    fields = payload.dict(exclude_none=True, exclude={"version"})
    services.update_review(ticket_id=ticket.pk, by=_user(request), version=payload.version,
                           fields=fields)
    return _review(ticket)


@router.post("/tickets/{key}/review/summary", response=ReviewOut,
             summary="Generate a draft's timeline summary again from the ticket")
def regenerate_summary(request: HttpRequest, key: str, payload: VersionIn) -> dict[str, Any]:
    ticket = _ticket(request, key)
    services.regenerate_summary(ticket_id=ticket.pk, by=_user(request),
                                version=payload.version)
    return _review(ticket)


@router.post("/tickets/{key}/review/complete", response=ReviewOut,
             summary="Complete the review of a closed ticket (assignee, duty engineer, head)")
def complete_review(request: HttpRequest, key: str, payload: VersionIn) -> dict[str, Any]:
    ticket = _ticket(request, key)
    services.complete_review(ticket_id=ticket.pk, by=_user(request), version=payload.version)
    return _review(ticket)


@router.post("/tickets/{key}/review/actions", response={201: ActionItemOut},
             summary="Add an action item (owner, due date) to a draft review")
def add_action_item(request: HttpRequest, key: str,
                    payload: ActionItemIn) -> Status[dict[str, Any]]:
    ticket = _ticket(request, key)
    item = services.add_action_item(ticket_id=ticket.pk, by=_user(request),
                                    title=payload.title, owner=payload.owner,
                                    due_at=payload.due_at)
    return Status(201, _item(item))


@router.patch("/tickets/{key}/review/actions/{item_id}", response=ActionItemOut,
              summary="Mark an action item done (or not done again): its owner, the "
                      "assignee, the duty engineer or the head")
def mark_action_item(request: HttpRequest, key: str, item_id: Id,
                     payload: ActionItemMarkIn) -> dict[str, Any]:
    # The service checks who may: the owner need not read the ticket otherwise.
    item = services.mark_action_item(ticket_id=tickets.ticket_id_from_key(key),
                                     item_id=item_id, by=_user(request), done=payload.done,
                                     note=payload.note)
    return _item(item)


@router.get("/action-items", response=list[OwnedItemOut],
            summary="Your open action items from post-incident reviews, soonest due first")
def my_action_items(request: HttpRequest) -> list[dict[str, Any]]:
    return [{**_item(i), "ticket": i.review.ticket.key, "ticket_title": i.review.ticket.title}
            for i in selectors.open_action_items(owner=_user(request))[:200]]
