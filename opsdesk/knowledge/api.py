"""The knowledge API: similar problems (for a draft and for a ticket) and knowledge articles.
Thin handlers that parse, call a service or selector, and shape the answer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.knowledge import selectors, services
from opsdesk.knowledge.models import Article, ArticleStatus, ArticleTicket
from opsdesk.knowledge.schemas import (
    ArticleIn,
    ArticleLinkIn,
    ArticleOut,
    ArticlePageOut,
    ArticleUpdateIn,
    DraftIn,
    RevisionIn,
    SimilarOut,
    SolvedOut,
)
from opsdesk.knowledge.similar import Problem, similar_articles, similar_tickets
from opsdesk.tickets import selectors as tickets
from opsdesk.tickets.errors import InvalidField, NotFound
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.schemas import UserRef

router = Router(tags=["knowledge"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


@router.post("/tickets/similar", response=SimilarOut,
             summary="Similar closed problems and articles for a problem being registered")
def similar_to_draft(request: HttpRequest, payload: DraftIn) -> dict[str, Any]:
    user = _user(request)
    problem = Problem.draft(title=payload.title, description=payload.description,
                            error_message=payload.error_message, module=payload.module)
    return _similar(user, problem)


@router.get("/tickets/{key}/similar", response=SimilarOut,
            summary="Similar closed problems and articles for a ticket")
def similar_to_ticket(request: HttpRequest, key: str) -> dict[str, Any]:
    user = _user(request)
    ticket = tickets.get_ticket(user=user, key=key)
    return _similar(user, Problem.of_ticket(ticket), exclude=ticket.pk)


def _similar(user: User, problem: Problem, exclude: int | None = None) -> dict[str, Any]:
    return {
        "tickets": [
            {"key": s.ticket.key, "title": s.ticket.title, "status": s.ticket.status,
             "module": s.ticket.module.name if s.ticket.module else None,
             "cause": s.ticket.cause, "solution": s.ticket.solution,
             "prevention": s.ticket.prevention,
             "closed_at": s.ticket.closed_at or s.ticket.archived_at, "score": s.score}
            for s in similar_tickets(user=user, problem=problem, exclude=exclude)
        ],
        "articles": [
            {**_ref(s.article), "problem": s.article.problem, "cause": s.article.cause,
             "solution": s.article.solution,
             "resolved_without_ticket": s.article.resolved_without_ticket, "score": s.score}
            for s in similar_articles(problem=problem)
        ],
    }


class ArticleParams(Schema):
    text: str | None = Field(None, max_length=200, description="Words to search for (every "
                                                               "one must occur).")
    status: ArticleStatus | None = None
    module: str | None = Field(None, max_length=100, description="Code, name or id.")
    ticket: str | None = Field(None, max_length=40, description="Those linked to this ticket.")
    offset: int = Field(0, ge=0, le=100_000)
    limit: int = Field(20, ge=1, le=100)


@router.get("/articles", response=ArticlePageOut, summary="Search and list knowledge articles")
def list_articles(request: HttpRequest, params: Query[ArticleParams]) -> dict[str, Any]:
    user = _user(request)
    module = None
    if params.module:
        module = get_module_by_ref(params.module)
        if module is None:
            raise InvalidField(_("No such module: %s.") % params.module, field="module")
    ticket = _ticket_named(user, params.ticket) if params.ticket else None
    page = selectors.list_articles(user=user, text=params.text or "", status=params.status,
                                   module=module, ticket=ticket, offset=params.offset,
                                   limit=params.limit)
    return {"total": page.total, "items": [
        {**_ref(a), "module": a.module.name if a.module else None,
         "problem_type": a.problem_type or None, "updated_at": a.updated_at,
         "resolved_without_ticket": a.resolved_without_ticket, "views": a.views,
         "highlights": getattr(a, "highlights", None)}
        for a in page.items]}


@router.post("/articles", response={201: ArticleOut},
             summary="Write an article: from a closed ticket's report, or from scratch (staff)")
def create_article(request: HttpRequest, payload: ArticleIn) -> Status[dict[str, Any]]:
    user = _user(request)
    if payload.ticket is not None:
        if payload.article_fields():
            raise InvalidField(_("Send either a ticket to write the article from, or the "
                                 "article's fields, not both."), field="ticket")
        ticket = _ticket_named(user, payload.ticket)
        article = services.create_article_from_ticket(by=user, ticket_id=ticket.pk)
    else:
        article = services.create_article(by=user, fields=payload.article_fields())
    return Status(201, _detail(user, article.pk))


@router.get("/articles/{key}", response=ArticleOut, summary="Read an article")
def get_article(request: HttpRequest, key: str) -> dict[str, Any]:
    return _detail(_user(request), key)


@router.patch("/articles/{key}", response=ArticleOut, summary="Edit an article (staff)")
def update_article(request: HttpRequest, key: str, payload: ArticleUpdateIn) -> dict[str, Any]:
    user = _user(request)
    article = selectors.get_article(user=user, key=key)
    services.update_article(by=user, article_id=article.pk, revision=payload.revision,
                            fields=payload.fields)
    return _detail(user, article.pk)


@router.post("/articles/{key}/publish", response=ArticleOut, summary="Publish (staff)")
def publish_article(request: HttpRequest, key: str, payload: RevisionIn) -> dict[str, Any]:
    user = _user(request)
    article = selectors.get_article(user=user, key=key)
    services.publish_article(by=user, article_id=article.pk, revision=payload.revision)
    return _detail(user, article.pk)


@router.post("/articles/{key}/withdraw", response=ArticleOut,
             summary="Back to a draft (staff)")
def withdraw_article(request: HttpRequest, key: str, payload: RevisionIn) -> dict[str, Any]:
    user = _user(request)
    article = selectors.get_article(user=user, key=key)
    services.withdraw_article(by=user, article_id=article.pk, revision=payload.revision)
    return _detail(user, article.pk)


@router.post("/articles/{key}/tickets", response={201: ArticleOut},
             summary="Link a ticket the article answers (staff)")
def link_ticket(request: HttpRequest, key: str,
                payload: ArticleLinkIn) -> Status[dict[str, Any]]:
    user = _user(request)
    article = selectors.get_article(user=user, key=key)
    services.link_ticket(by=user, article_id=article.pk, ticket_key=payload.ticket)
    return Status(201, _detail(user, article.pk))


@router.delete("/articles/{key}/tickets/{ticket_key}", response={204: None},
               summary="Remove a ticket's link (staff)")
def unlink_ticket(request: HttpRequest, key: str, ticket_key: str) -> Status[None]:
    user = _user(request)
    article = selectors.get_article(user=user, key=key)
    ticket = tickets.get_ticket(user=user, key=ticket_key)
    services.unlink_ticket(by=user, article_id=article.pk, ticket_id=ticket.pk)
    return Status(204, None)


@router.post("/articles/{key}/solved", response=SolvedOut,
             summary="This article solved my problem (counted once per person)")
def solved(request: HttpRequest, key: str) -> dict[str, Any]:
    user = _user(request)
    article = selectors.get_article(user=user, key=key)
    counted = services.record_deflection(by=user, article_id=article.pk)
    article.refresh_from_db(fields=["resolved_without_ticket"])
    return {"counted": counted, "resolved_without_ticket": article.resolved_without_ticket}


def _ticket_named(user: User, key: str) -> Ticket:
    """The ticket a field of the request names: one it does not (or the caller may not
    read) makes the request invalid."""
    try:
        return tickets.get_ticket(user=user, key=key)
    except NotFound as exc:
        raise InvalidField(exc.message, field="ticket") from exc


def _ref(article: Article) -> dict[str, Any]:
    return {"id": article.pk, "key": article.key, "title": article.title,
            "status": article.status}


def _detail(user: User, key: str | int) -> dict[str, Any]:
    article = selectors.get_article(user=user, key=key)
    return {
        **_ref(article), "problem": article.problem, "cause": article.cause,
        "solution": article.solution, "prevention": article.prevention,
        "module": article.module.name if article.module else None,
        "problem_type": article.problem_type or None, "author": UserRef.of(article.author),
        "updated_by": UserRef.of(article.updated_by), "created_at": article.created_at,
        "updated_at": article.updated_at, "published_at": article.published_at,
        "revision": article.revision,
        "resolved_without_ticket": article.resolved_without_ticket, "views": article.views,
        "tickets": [_ticket_link(link) for link in
                    selectors.tickets_of_article(user=user, article=article)],
    }


def _ticket_link(link: ArticleTicket) -> dict[str, Any]:
    return {"key": link.ticket.key, "title": link.ticket.title, "status": link.ticket.status,
            "source": link.source, "linked_by": UserRef.of(link.linked_by),
            "linked_at": link.linked_at}
