"""The closed problems and the published articles most like a problem being registered or
analysed, so that an earlier fix is found before the work is done again.

The problem's words (title, module, description, error message, segmented as search
segments them) are asked for *any*, not all: a problem told in other words still shares
some of them with its earlier report. On a large archive a word found in very many tickets
(用户, 失败) tells little and would make nearly every ticket a candidate, so it is left
out as long as enough rarer words remain (``FEWEST``); each word weighs by its rarity (BM25
on SQLite, ts_rank weighted by the words' inverse document frequency on PostgreSQL). Among
the closed and archived tickets the reader may read, the best matches are then raised when
they concern the same module, and the same problem type when it is known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.knowledge import index
from opsdesk.knowledge import selectors as search
from opsdesk.knowledge.index import Matches, Score, Table
from opsdesk.knowledge.models import Article, ArticleStatus
from opsdesk.knowledge.words import Query, query_words
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import InvalidField
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import visible_tickets

SHOWN = 5
# The problem's first words asked for, and how many of them at least, the least common first,
# when most are too common to tell problems apart.
CONSIDERED, FEWEST = 24, 3
# How much a match weighs more when it concerns the same module, the same problem type.
SAME_MODULE, SAME_TYPE = 1.5, 1.2
CLOSED = (Status.CLOSED, Status.ARCHIVED)
# The same floor FTS5's BM25 gives a word found in more than half of the documents.
_LEAST_WEIGHT = 1e-6


@dataclass(frozen=True)
class Problem:
    """A problem as similar ones are looked for: being registered (a draft) or analysed."""

    title: str
    description: str = ""
    error_message: str = ""
    module: Module | None = None
    problem_type: str = ""

    @classmethod
    def draft(cls, *, title: str, description: str = "", error_message: str = "",
              module: str | None = None) -> Problem:
        """A problem being registered, its module named by code, name or id."""
        found = None
        if module:
            found = get_module_by_ref(module)
            if found is None:
                raise InvalidField(_("No such module: %s.") % module, field="module")
        return cls(title, description, error_message, found)

    @classmethod
    def of_ticket(cls, ticket: Ticket) -> Problem:
        return cls(ticket.title, ticket.description, ticket.error_message, ticket.module,
                   ticket.problem_type)

    @property
    def text(self) -> str:
        parts = (self.title, self.module.name if self.module else "", self.description,
                 self.error_message)
        return "\n".join(part for part in parts if part)


@dataclass(frozen=True)
class SimilarTicket:
    ticket: Ticket
    score: int


@dataclass(frozen=True)
class SimilarArticle:
    article: Article
    score: int


def query_for(problem: Problem, *, table: Table) -> Query | None:
    """The words of ``problem`` worth asking ``table`` for, weighted by rarity; None when
    it has none that any document holds."""
    words = query_words(problem.text)[:CONSIDERED]
    total, counts = index.frequencies(words, table=table)
    found = sorted((count, at) for at, count in enumerate(counts) if count)
    rare = [(count, at) for count, at in found if count < index.COUNTED]
    chosen = rare if len(rare) >= FEWEST else found[:FEWEST]
    if not chosen:
        return None
    return Query.any_of(tuple(words[at] for _count, at in chosen),
                        tuple(_rarity(count, total) for count, _at in chosen))


def _rarity(count: int, total: int) -> float:
    """BM25's inverse document frequency."""
    return max(math.log((total - count + 0.5) / (count + 0.5)), _LEAST_WEIGHT)


def similar_tickets(*, user: User, problem: Problem, exclude: int | None = None,
                    limit: int = SHOWN) -> list[SimilarTicket]:
    """Up to ``limit`` closed or archived tickets ``user`` may read that are most like
    ``problem``, best first, with their cause and solution (``exclude``: the ticket being
    analysed)."""
    query = query_for(problem, table=index.TICKETS)
    if query is None:
        return []
    closed = visible_tickets(user).filter(status__in=CLOSED)
    if exclude is not None:
        closed = closed.exclude(pk=exclude)
    hits = search.ranked(tickets=closed, query=query, staff=user.is_department_staff,
                         limit=search.NEWEST)
    kinds = {pk: (module_id, problem_type) for pk, module_id, problem_type in
             Ticket.objects.filter(pk__in=[hit.ticket_id for hit in hits])
             .values_list("pk", "module_id", "problem_type")}
    best = _boosted([(hit.ticket_id, hit.score, *kinds[hit.ticket_id]) for hit in hits
                     if hit.ticket_id in kinds], problem)[:limit]
    loaded = Ticket.objects.select_related("module").only(
        "title", "status", "cause", "solution", "prevention", "closed_at", "archived_at",
        "problem_type", "module__name").in_bulk([ticket_id for ticket_id, _score in best])
    return [SimilarTicket(loaded[ticket_id], score) for ticket_id, score in best
            if ticket_id in loaded]


def similar_articles(*, problem: Problem, limit: int = SHOWN) -> list[SimilarArticle]:
    """Up to ``limit`` published articles most like ``problem``, best first (published
    ones are for everyone)."""
    query = query_for(problem, table=index.ARTICLES)
    if query is None:
        return []
    rows = (Article.objects.filter(status=ArticleStatus.PUBLISHED, search_index__isnull=False)
            .filter(Matches(query, staff=True, table=index.ARTICLES))
            .annotate(search_score=Score(query, staff=True, table=index.ARTICLES))
            .order_by("-search_score", "-pk")
            .values_list("pk", "search_score", "module_id", "problem_type")[:search.NEWEST])
    best = _boosted(list(rows), problem)[:limit]
    loaded = Article.objects.select_related("module").in_bulk([pk for pk, _score in best])
    return [SimilarArticle(loaded[pk], score) for pk, score in best if pk in loaded]


def _boosted(rows: Sequence[tuple[int, int, int | None, str]],
             problem: Problem) -> list[tuple[int, int]]:
    """(id, score) of ``rows`` (id, score, module id, problem type), the score raised for
    the problem's module and type, best first, ties newest first."""
    module_id = problem.module.pk if problem.module else None
    scored = []
    for row_id, score, row_module, row_type in rows:
        factor = 1.0
        if module_id is not None and row_module == module_id:
            factor *= SAME_MODULE
        if problem.problem_type and row_type == problem.problem_type:
            factor *= SAME_TYPE
        scored.append((int(score * factor), row_id))
    return [(row_id, score) for score, row_id in sorted(scored, reverse=True)]
