"""API shapes for similar problems and knowledge articles. Only shapes: the rules live in the
services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from opsdesk.accounts.models import ProblemType
from opsdesk.knowledge.models import ArticleStatus
from opsdesk.knowledge.services import MAX_ARTICLE_TEXT
from opsdesk.tickets.schemas import Input, UserRef

# What of a draft is read to find similar problems: its beginning says what it is about.
DRAFT_TEXT_MAX = 10_000


class DraftIn(Input):
    """A problem about to be registered, as far as it is written."""

    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=DRAFT_TEXT_MAX)
    error_message: str = Field("", max_length=DRAFT_TEXT_MAX)
    module: str | None = Field(None, max_length=100, description="Code, name or id.")


class SimilarTicketOut(Schema):
    key: str
    title: str
    status: str
    module: str | None
    cause: str
    solution: str
    prevention: str
    closed_at: datetime | None = Field(description="When it was closed (archived, for an "
                                                   "archived ticket closed before closing "
                                                   "dates were kept).")
    score: int = Field(description="How similar, higher is closer; comparable only within "
                                   "one answer.")


class ArticleRef(Schema):
    id: int
    key: str
    title: str
    status: ArticleStatus


class SimilarArticleOut(ArticleRef):
    problem: str
    cause: str
    solution: str
    resolved_without_ticket: int
    score: int


class SimilarOut(Schema):
    tickets: list[SimilarTicketOut] = Field(description="Closed or archived tickets you may "
                                                        "read, most similar first (at most 5).")
    articles: list[SimilarArticleOut] = Field(description="Published knowledge articles, most "
                                                          "similar first (at most 5).")


class ArticleTicketOut(Schema):
    key: str
    title: str
    status: str
    source: bool = Field(description="The article was written from this ticket.")
    linked_by: UserRef
    linked_at: datetime


class ArticleOut(ArticleRef):
    problem: str
    cause: str
    solution: str
    prevention: str
    module: str | None
    problem_type: ProblemType | None
    author: UserRef
    updated_by: UserRef
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    revision: int = Field(description="Send it back with an edit, publish or withdraw.")
    resolved_without_ticket: int = Field(description="How many people said it solved their "
                                                     "problem before they reported it.")
    views: int
    tickets: list[ArticleTicketOut] = Field(description="The tickets it answers that you may "
                                                        "read, the one it was written from "
                                                        "first.")


class ArticleListItem(ArticleRef):
    module: str | None
    problem_type: ProblemType | None
    updated_at: datetime
    resolved_without_ticket: int
    views: int
    highlights: dict[str, str] | None = Field(
        description="With text: the fields where a searched word occurs, as escaped HTML with "
                    "the words in <mark>.")


class ArticlePageOut(Schema):
    items: list[ArticleListItem]
    total: int



class ArticleIn(Input):
    """A new article: from a closed ticket's resolution report (``ticket`` alone), or
    written from scratch."""

    ticket: str | None = Field(None, max_length=40, description="Write it from this closed "
                                                                "ticket (its key).")
    title: str | None = Field(None, max_length=200)
    problem: str | None = Field(None, max_length=MAX_ARTICLE_TEXT)
    cause: str | None = Field(None, max_length=MAX_ARTICLE_TEXT)
    solution: str | None = Field(None, max_length=MAX_ARTICLE_TEXT)
    prevention: str | None = Field(None, max_length=MAX_ARTICLE_TEXT)
    module: str | None = Field(None, max_length=100, description="Code, name or id.")
    problem_type: ProblemType | None = None

    def article_fields(self) -> dict[str, Any]:
        return self.dict(exclude_none=True, exclude={"ticket"})


class ArticleUpdateIn(Input):
    revision: int = Field(..., ge=1)
    fields: dict[str, Any] = Field(..., description="title, problem, cause, solution, "
                                                    "prevention, module, problem_type.")


class RevisionIn(Input):
    revision: int = Field(..., ge=1)


class ArticleLinkIn(Input):
    ticket: str = Field(..., min_length=1, max_length=40, description="The ticket's key.")


class SolvedOut(Schema):
    counted: bool = Field(description="False when you had already said so.")
    resolved_without_ticket: int
