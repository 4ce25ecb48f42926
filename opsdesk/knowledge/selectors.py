"""Searching tickets: the ranked matches among the tickets someone may read, and the
snippets that show why each matched; and reading knowledge articles.

A search is ranked by relevance (BM25 on SQLite, ts_rank on PostgreSQL), best first, ties
newest first. Two ways to find the matches, chosen by how many tickets the filters and the
reader's visibility leave:

- a few (up to ``NARROW``: a submitter's own tickets, a small queue): each is looked up in
  the index and every match is ranked;
- more: the index is walked newest first and joined to the filtered tickets, and the newest
  ``NEWEST`` matches are ranked (``NEWEST_FILTERED`` when a filter leaves more than
  ``NARROW``: each of its tickets is looked up in the index, so the walk costs one look-up per
  filtered ticket passed). A word found in more tickets than that (登录 in a busy archive) is
  thus ranked among its most recent tickets: a second word, or a filter, reaches the older
  ones. This bounds a search's cost whatever the size of the archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, User
from opsdesk.bounds import MAX_ID, positive_int
from opsdesk.knowledge import index
from opsdesk.knowledge.highlight import snippet
from opsdesk.knowledge.index import Matches, Score
from opsdesk.knowledge.models import (
    Article,
    ArticleTicket,
    Deflection,
    SearchTerm,
    TicketIndex,
)
from opsdesk.knowledge.policy import readable_articles
from opsdesk.knowledge.services import ARTICLE_TEXTS, BODY_FIELDS
from opsdesk.knowledge.words import Query
from opsdesk.tickets.errors import NotFound
from opsdesk.tickets.models import Comment, Ticket, WorkLogStep

NARROW = 2_000
NEWEST = 2_000
NEWEST_FILTERED = 1_000
RECENT = 50_000


@dataclass(frozen=True, order=True)
class Hit:
    """A matching ticket and its score (higher is better)."""

    score: int
    ticket_id: int


def dictionary_terms() -> list[str]:
    """The words the segmenter keeps whole beyond its own dictionary: the modules' names and
    the administrators' search terms."""
    return [*Module.objects.values_list("name", flat=True),
            *SearchTerm.objects.values_list("word", flat=True)]


def ranked(*, tickets: QuerySet[Ticket], query: Query, staff: bool, first: int | None = None,
           after: Hit | None = None, limit: int = 50) -> list[Hit]:
    """Up to ``limit`` of ``tickets`` matching ``query``, best first, after the hit ``after``
    (a page's last). ``staff``: internal notes and steps count too. ``first``: a ticket that
    ranks above every match if it is among ``tickets`` (the one whose key was typed)."""
    scored: list[tuple[int, int]] = []
    if query.words:
        few = list(tickets.order_by().values_list("pk", flat=True)[:NARROW + 1])
        if len(few) <= NARROW:
            scored = index.ranked_among(few, query, staff=staff)
        else:
            scored = _newest(tickets, query, staff=staff)
    if first is not None and tickets.filter(pk=first).exists():
        scored = [(first, MAX_ID), *(hit for hit in scored if hit[0] != first)]
    hits = sorted((Hit(score, ticket_id) for ticket_id, score in scored), reverse=True)
    if after is not None:
        hits = [hit for hit in hits if hit < after]
    return hits[:limit]


def _newest(tickets: QuerySet[Ticket], query: Query, *, staff: bool) -> list[tuple[int, int]]:
    """(id, score) of the newest matches of ``tickets`` to ``query``: NEWEST of them over every
    ticket, NEWEST_FILTERED when ``tickets`` is filtered (read by its own index, in one walk).

    Over every ticket the walk goes back in windows of ticket ids, newest first: the newest
    RECENT tickets, which usually hold enough (a word in 10% of them: 2,000 found among
    20,000), then a window sized from the matches found so far to hold the rest, and so on.
    Each window is one statement whose id range PostgreSQL intersects with the words' matches
    in its full-text index before reading any row: without the range it reads every match of
    the words (HTTP 502 at 1,000,000 tickets: 24,604 rows, 180 ms, to keep 800).
    """
    matching = (tickets.filter(search_index__isnull=False).filter(Matches(query, staff=staff))
                .annotate(search_score=Score(query, staff=staff))
                # The index's own order (newest first), so that a walk stops at its limit.
                .order_by("-search_index__pk").values_list("pk", "search_score"))
    newest = tickets.order_by("-pk").values_list("pk", flat=True).first()
    if tickets.query.has_filters() or newest is None:
        return list(matching[:NEWEST_FILTERED])
    found: list[tuple[int, int]] = []
    top, size = newest, RECENT
    while top > 0 and len(found) < NEWEST:
        window = matching.filter(search_index__pk__lte=top, search_index__pk__gt=top - size)
        part = list(window[:NEWEST - len(found)])
        found += part
        top -= size
        walked = newest - top
        # The next window should hold what is missing at the density seen so far (with a
        # margin), and is never smaller than the last one.
        missing = NEWEST - len(found)
        size = max(size, walked if not found else missing * walked * 3 // (2 * len(found)))
    return found


def matching_ids(*, query: Query, staff: bool) -> QuerySet[TicketIndex, int]:
    """The ids of the tickets matching ``query``, unranked (a subquery for counts and the
    other orders)."""
    if not query.words:
        return TicketIndex.objects.none().values_list("ticket_id", flat=True)
    return (TicketIndex.objects.filter(Matches(query, staff=staff))
            .values_list("ticket_id", flat=True))


def highlights(*, ticket_ids: Sequence[int], query: Query,
               staff: bool) -> dict[int, dict[str, SafeString]]:
    """For each ticket, its fields where a searched word occurs, as escaped snippets with the
    words marked: its own fields by name, ``comments`` (the first matching comment) and
    ``work_log`` (the first matching step). Internal ones only for ``staff``."""
    words = query.words
    found: dict[int, dict[str, SafeString]] = {ticket_id: {} for ticket_id in ticket_ids}
    if not words or not ticket_ids:
        return found
    for row in Ticket.objects.filter(pk__in=ticket_ids).values("pk", "title", *BODY_FIELDS):
        marked = found[row.pop("pk")]
        for name, text in row.items():
            if text and (part := snippet(text, words, whole=name == "title")) is not None:
                marked[name] = part
    comments = Comment.objects.filter(ticket_id__in=ticket_ids).order_by("id")
    steps = WorkLogStep.objects.filter(ticket_id__in=ticket_ids).order_by("id")
    if not staff:
        comments, steps = comments.filter(internal=False), steps.filter(internal=False)
    for ticket_id, body in comments.values_list("ticket_id", "body"):
        if "comments" not in found[ticket_id] and (part := snippet(body, words)) is not None:
            found[ticket_id]["comments"] = part
    for ticket_id, command, output in steps.values_list("ticket_id", "command", "output"):
        if "work_log" not in found[ticket_id]:
            part = snippet(command, words) or snippet(output, words)
            if part is not None:
                found[ticket_id]["work_log"] = part
    return found


# Knowledge articles.

ARTICLE_KEY_PREFIX = "KB-"


def article_id_from_key(key: str | int) -> int:
    """``KB-12`` (or ``12``) to 12."""
    raw = str(key).strip()
    number = raw[len(ARTICLE_KEY_PREFIX):] if raw.upper().startswith(ARTICLE_KEY_PREFIX) else raw
    article_id = positive_int(number)
    if article_id is None:
        raise NotFound(_("No such article: %s.") % key)
    return article_id


def get_article(*, user: User, key: str | int) -> Article:
    """The article if ``user`` may read it; NotFound otherwise, whether or not it exists."""
    article = (readable_articles(user).select_related("module", "author", "updated_by")
               .filter(pk=article_id_from_key(key)).first())
    if article is None:
        raise NotFound(_("No such article: %s.") % key)
    return article


@dataclass(frozen=True)
class ArticlePage:
    items: list[Article]
    total: int


def list_articles(*, user: User, text: str = "", status: str | None = None,
                  module: Module | None = None, ticket: Ticket | None = None,
                  offset: int = 0, limit: int = 20) -> ArticlePage:
    """A page of the articles ``user`` may read: with ``text``, those holding every word of
    it, best match first (each with ``highlights``: its fields where a word occurs, marked);
    otherwise the most recently updated first. ``ticket``: those linked to it."""
    articles = readable_articles(user).select_related("module", "author")
    if status:
        articles = articles.filter(status=status)
    if module is not None:
        articles = articles.filter(module=module)
    if ticket is not None:
        articles = articles.filter(ticket_links__ticket=ticket)
    query = Query.parse(text) if text.strip() else None
    if query is not None:
        if not query.words:
            return ArticlePage([], 0)
        articles = (articles.filter(search_index__isnull=False)
                    .filter(Matches(query, staff=True, table=index.ARTICLES))
                    .annotate(search_score=Score(query, staff=True, table=index.ARTICLES))
                    .order_by("-search_score", "-pk"))
    else:
        articles = articles.order_by("-updated_at", "-pk")
    total = articles.count()
    items = list(articles[offset:offset + limit])
    if query is not None:
        for article in items:
            article.highlights = article_highlights(article, query)  # type: ignore[attr-defined]
    return ArticlePage(items, total)


def article_highlights(article: Article, query: Query) -> dict[str, SafeString]:
    """The article's fields where a word of ``query`` occurs, escaped, the words marked."""
    marked = {}
    for name in ("title", *ARTICLE_TEXTS):
        text = getattr(article, name)
        if text and (part := snippet(text, query.words, whole=name == "title")) is not None:
            marked[name] = part
    return marked


def tickets_of_article(*, user: User, article: Article) -> list[ArticleTicket]:
    """The article's tickets that ``user`` may read, the one it was written from first."""
    # Imported here: the tickets' selectors search through this module.
    from opsdesk.tickets.selectors import visible_tickets

    return list(ArticleTicket.objects.filter(article=article,
                                             ticket__in=visible_tickets(user))
                .select_related("ticket", "linked_by").order_by("-source", "linked_at", "pk"))


def articles_of_ticket(*, user: User, ticket: Ticket) -> list[ArticleTicket]:
    """The articles linked to ``ticket`` that ``user`` may read."""
    return list(ArticleTicket.objects.filter(ticket=ticket,
                                             article__in=readable_articles(user))
                .select_related("article").order_by("linked_at", "pk"))


def has_solved(*, user: User, article: Article) -> bool:
    """Whether ``user`` already said the article solved their problem."""
    return article.deflections.filter(person=user).exists()


def solved_by(*, user: User, article_ids: Sequence[int]) -> set[int]:
    """Those of ``article_ids`` that ``user`` said solved their problem."""
    return set(Deflection.objects.filter(person=user, article_id__in=article_ids)
               .values_list("article_id", flat=True))
