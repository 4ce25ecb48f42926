"""Following a ticket: anyone who can see a ticket may watch it for the topics they choose."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from opsdesk.accounts.models import User
from opsdesk.notify import selectors, services
from opsdesk.notify.choices import DEFAULT_WATCH_TOPICS, WatchTopic
from opsdesk.tickets import selectors as tickets
from opsdesk.tickets.schemas import Input

router = Router(tags=["watching"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


class WatchIn(Input):
    topics: list[WatchTopic] | None = Field(
        None, max_length=len(WatchTopic),
        description="What to hear about: comments, status (changes and progress), decisions "
                    "(approval, rejection, verification), links. Default: all but links.")


class WatchOut(Schema):
    ticket: str
    watching: bool
    topics: list[WatchTopic]


def _state(key: str, topics: list[str] | None) -> WatchOut:
    return WatchOut(ticket=key, watching=topics is not None,
                    topics=[WatchTopic(t) for t in topics or []])


@router.get("/tickets/{key}/watch", response=WatchOut, summary="Whether you follow a ticket")
def read_watch(request: HttpRequest, key: str) -> WatchOut:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    watch = selectors.watch_of(user=user, ticket=ticket)
    return _state(ticket.key, watch.topics if watch else None)


@router.post("/tickets/{key}/watch", response=WatchOut, summary="Follow a ticket")
def watch(request: HttpRequest, key: str, payload: WatchIn | None = None) -> WatchOut:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    topics = payload.topics if payload is not None else None
    chosen = services.watch_ticket(
        ticket=ticket, by=user,
        topics=list(DEFAULT_WATCH_TOPICS) if topics is None else [str(t) for t in topics])
    return _state(ticket.key, chosen.topics)


@router.delete("/tickets/{key}/watch", response={204: None}, summary="Stop following a ticket")
def unwatch(request: HttpRequest, key: str) -> HttpResponse:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    services.unwatch_ticket(ticket=ticket, by=user)
    return HttpResponse(status=204)
