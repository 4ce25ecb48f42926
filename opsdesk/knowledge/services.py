"""Writes to the search index, each in the transaction of the ticket write it follows (a
rolled-back write leaves the index as it was), and its rebuild; and every write of
knowledge articles: written from a closed ticket's resolution report or from scratch,
edited, published, linked to tickets, and counted when one solved a problem without a
ticket."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Manager
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.accounts.selectors import get_module_by_ref
from opsdesk.errors import DomainError
from opsdesk.knowledge import index
from opsdesk.knowledge.index import Document
from opsdesk.knowledge.models import Article, ArticleStatus, ArticleTicket, Deflection
from opsdesk.knowledge.policy import may_edit, may_write_articles, readable_articles
from opsdesk.runtime import config
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import (
    InvalidField,
    MissingFields,
    NotFound,
    PermissionRefused,
    StaleVersion,
    TransitionRefused,
)
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Comment, Ticket, TimelineEvent, WorkLogStep

# Registration, analysis and resolution text: the document's second column.
BODY_FIELDS = (
    "description", "steps_to_reproduce", "error_message", "impact_scope", "alert_host",
    "alert_rule", "alert_symptom", "analysis_notes", "cause", "solution", "prevention",
)
SEARCHED_FIELDS = frozenset({"title", *BODY_FIELDS})


# Other apps' text indexed with a ticket, for department staff only (a post-incident review):
# each gives, for some ticket ids, the texts of each.
InternalTexts = Callable[[Sequence[int]], Mapping[int, list[str]]]
_internal_texts: list[InternalTexts] = []


def on_documents(texts: InternalTexts) -> InternalTexts:
    """Register ``texts`` (in an AppConfig.ready) to be indexed with the tickets."""
    if texts not in _internal_texts:
        _internal_texts.append(texts)
    return texts


def index_new_tickets(tickets: Sequence[Ticket]) -> None:
    """Index tickets just filed (nothing said on them yet), so that they are found as soon as
    their filing commits."""
    index.write([
        Document.of(t.pk, title=t.title, body=[getattr(t, name) for name in BODY_FIELDS],
                    conversation=(), internal=())
        for t in tickets
    ], new=True)


def reindex_tickets(*, ticket_ids: Sequence[int]) -> None:
    """Rebuild the documents of these tickets from what they hold now."""
    index.write(documents(ticket_ids))


def reindex_changed_ticket(change: TicketChange) -> None:
    """The tickets hook: a comment, or a change to a searched field, rewrites the document."""
    if change.action == "comment" or not SEARCHED_FIELDS.isdisjoint(change.changed):
        reindex_tickets(ticket_ids=[change.ticket.pk])


def rebuild_index(*, batch: int = 1000,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Re-segment every ticket (after a dictionary change, or to repair the index), a batch
    per transaction so that the desk keeps working meanwhile and searches keep finding what
    is not yet redone; then drop what belongs to no ticket. How many were indexed."""
    total = Ticket.objects.count()
    done, last = 0, 0
    while True:
        with transaction.atomic(), config.one_read():
            ids = list(Ticket.objects.filter(pk__gt=last).order_by("pk")
                       .values_list("pk", flat=True)[:batch])
            if not ids:
                break
            reindex_tickets(ticket_ids=ids)
        done, last = done + len(ids), ids[-1]
        if progress is not None:
            progress(done, max(total, done))
    with transaction.atomic():
        index.drop_orphans()
        index.optimize()
    return done


def documents(ticket_ids: Sequence[int], *, tickets: Manager[Any] = Ticket.objects,
              comments: Manager[Any] = Comment.objects,
              steps: Manager[Any] = WorkLogStep.objects) -> list[Document]:
    """The documents of these tickets as they are now (read through the given managers: a
    migration passes its historical models')."""
    said: dict[tuple[int, bool], list[str]] = defaultdict(list)
    for ticket_id, body, internal in (comments.filter(ticket_id__in=ticket_ids)
                                      .order_by("id").values_list("ticket_id", "body",
                                                                  "internal")):
        said[ticket_id, internal].append(body)
    for ticket_id, command, target, output, internal in (
        steps.filter(ticket_id__in=ticket_ids).order_by("id")
        .values_list("ticket_id", "command", "target", "output", "internal")
    ):
        said[ticket_id, internal] += [command, target, output]
    if tickets is Ticket.objects:  # not a migration's historical models
        for texts in _internal_texts:
            for ticket_id, more in texts(ticket_ids).items():
                said[ticket_id, True] += more
    return [
        Document.of(row["pk"], title=row["title"], body=[row[name] for name in BODY_FIELDS],
                    conversation=said[row["pk"], False], internal=said[row["pk"], True])
        for row in tickets.filter(pk__in=ticket_ids).order_by("pk")
        .values("pk", "title", *BODY_FIELDS)
    ]


# Knowledge articles.

ARTICLE_TEXTS = ("problem", "cause", "solution", "prevention")
ARTICLE_FIELDS = ("title", *ARTICLE_TEXTS, "module", "problem_type")
REQUIRED_ARTICLE_FIELDS = ("title", "problem", "solution")
# A text longer than this is not an article but a paste: refused, nothing kept.
MAX_ARTICLE_TEXT = 20_000
WRITTEN_FROM = (Status.CLOSED, Status.ARCHIVED)


class ArticleExists(DomainError):
    """The ticket already has the article written from it."""

    code = "article_exists"
    status = 409


def index_articles(articles: Sequence[Article], *, new: bool = False) -> None:
    """Write the articles' documents (title; problem, cause, solution, prevention)."""
    index.write([
        Document.of_texts(a.pk, (a.title,), [getattr(a, name) for name in ARTICLE_TEXTS])
        for a in articles
    ], new=new, table=index.ARTICLES)


@transaction.atomic
def create_article(*, by: User, fields: Mapping[str, Any]) -> Article:
    """A new draft from ``fields`` (``ARTICLE_FIELDS``; title, problem and solution
    required), written by department staff."""
    if not may_write_articles(by):
        raise PermissionRefused(_("Only department staff may write knowledge articles."))
    article = Article(author=by, updated_by=by)
    _apply_article_fields(article, fields)
    now = timezone.now()
    article.created_at = article.updated_at = now
    article.save()
    index_articles([article], new=True)
    return article


@transaction.atomic
def create_article_from_ticket(*, by: User, ticket_id: int) -> Article:
    """In one step, a draft from a closed ticket's resolution report: its title, its
    registration (description and error message) as the problem, its cause, solution and
    prevention, its module and problem type; the ticket linked as the one it was written
    from. A ticket has one article written from it."""
    if not may_write_articles(by):
        raise PermissionRefused(_("Only department staff may write knowledge articles."))
    ticket = _readable_ticket(by, ticket_id)
    if ticket.status not in WRITTEN_FROM:
        raise TransitionRefused(
            _("%(key)s is not closed yet: an article is written from the resolution report "
              "of a closed ticket.") % {"key": ticket.key})
    if not (ticket.cause.strip() and ticket.solution.strip()):
        raise TransitionRefused(
            _("%(key)s has no resolution report (cause and solution) to write an article "
              "from.") % {"key": ticket.key})
    _refuse_second_article(ticket)
    problem = "\n\n".join(text for text in (ticket.description, ticket.error_message)
                           if text.strip())
    now = timezone.now()
    article = Article.objects.create(
        title=ticket.title, problem=problem or ticket.title, cause=ticket.cause,
        solution=ticket.solution, prevention=ticket.prevention, module=ticket.module,
        problem_type=ticket.problem_type, author=by, updated_by=by, created_at=now,
        updated_at=now)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin loses only this
            _link(article, ticket, by=by, at=now, source=True)
    except IntegrityError:
        _refuse_second_article(ticket)
        raise
    index_articles([article], new=True)
    return article


def _refuse_second_article(ticket: Ticket) -> None:
    written = (ArticleTicket.objects.filter(ticket=ticket, source=True)
               .select_related("article").first())
    if written is not None:
        raise ArticleExists(
            _("%(article)s was already written from %(key)s.")
            % {"article": written.article.key, "key": ticket.key},
            article=written.article.pk)


@transaction.atomic
def update_article(*, by: User, article_id: int, revision: int,
                   fields: Mapping[str, Any]) -> Article:
    """Change the article's ``fields`` (``ARTICLE_FIELDS``), made from its ``revision``:
    refused if someone else changed it since. A change makes a new revision."""
    article = _editable_article(by, article_id, revision)
    before = {name: getattr(article, name) for name in ("title", *ARTICLE_TEXTS, "module_id",
                                                         "problem_type")}
    _apply_article_fields(article, fields)
    after = {name: getattr(article, name) for name in before}
    if after == before:
        return article
    _save_revision(article, by)
    index_articles([article])
    return article


@transaction.atomic
def publish_article(*, by: User, article_id: int, revision: int) -> Article:
    """Publish the article: everyone signed in may read it, the portal suggests it."""
    return _set_status(by, article_id, revision, ArticleStatus.PUBLISHED)


@transaction.atomic
def withdraw_article(*, by: User, article_id: int, revision: int) -> Article:
    """Take a published article back to a draft (wrong, or out of date)."""
    return _set_status(by, article_id, revision, ArticleStatus.DRAFT)


def _set_status(by: User, article_id: int, revision: int, status: str) -> Article:
    article = _editable_article(by, article_id, revision)
    if article.status == status:
        return article
    article.status = status
    if status == ArticleStatus.PUBLISHED:
        article.published_at = timezone.now()
    _save_revision(article, by)
    return article


@transaction.atomic
def link_ticket(*, by: User, article_id: int, ticket_key: str) -> ArticleTicket:
    """Record that the article answers the ticket ``ticket_key``; both show it, and the
    ticket's timeline says so."""
    # The tickets' modules are imported where used: they index tickets through this one.
    from opsdesk.tickets.selectors import ticket_id_from_key

    article = _editable_article(by, article_id, None)
    try:
        ticket = _readable_ticket(by, ticket_id_from_key(ticket_key.strip()))
    except NotFound as exc:
        raise InvalidField(_("No such ticket: %s.") % ticket_key, field="ticket") from exc
    if ArticleTicket.objects.filter(article=article, ticket=ticket).exists():
        raise InvalidField(_("%(key)s is already linked to %(article)s.")
                           % {"key": ticket.key, "article": article.key}, field="ticket")
    try:
        with transaction.atomic():
            return _link(article, ticket, by=by, at=timezone.now(), source=False)
    except IntegrityError as exc:
        raise InvalidField(_("%(key)s is already linked to %(article)s.")
                           % {"key": ticket.key, "article": article.key},
                           field="ticket") from exc


@transaction.atomic
def unlink_ticket(*, by: User, article_id: int, ticket_id: int) -> None:
    """Remove the link between the article and the ticket; the ticket's timeline keeps that
    it was."""
    article = _editable_article(by, article_id, None)
    link = (ArticleTicket.objects.select_related("ticket")
            .filter(article=article, ticket_id=ticket_id).first())
    if link is None or not _can_read_ticket(by, link.ticket):
        raise NotFound(_("No such link."))
    _announce(article, link.ticket, by=by, at=timezone.now(), kind=TimelineEvent.Kind.UNLINKED)
    link.delete()


@transaction.atomic
def record_deflection(*, by: User, article_id: int) -> bool:
    """``by`` says the published article solved their problem, so they need not report it:
    counted once per person and article. Whether it was counted now."""
    article = (readable_articles(by).filter(pk=article_id, status=ArticleStatus.PUBLISHED)
               .first())
    if article is None:
        raise NotFound(_("No such article."))
    try:
        with transaction.atomic():
            Deflection.objects.create(article=article, person=by)
    except IntegrityError:
        return False
    Article.objects.filter(pk=article.pk).update(
        resolved_without_ticket=F("resolved_without_ticket") + 1)
    return True


def record_view(*, article: Article) -> None:
    """Someone read the published article."""
    if article.is_published:
        Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


def rebuild_article_index() -> int:
    """Re-segment every article into its index; how many were indexed."""
    done, last = 0, 0
    with transaction.atomic():
        index.clear(table=index.ARTICLES)
    while True:
        with transaction.atomic(), config.one_read():
            batch = list(Article.objects.filter(pk__gt=last).order_by("pk")[:500])
            if not batch:
                break
            index_articles(batch, new=True)
        done, last = done + len(batch), batch[-1].pk
    with transaction.atomic():
        index.optimize(table=index.ARTICLES)
    return done


def _readable_ticket(user: User, ticket_id: int) -> Ticket:
    ticket = Ticket.objects.select_related("module").filter(pk=ticket_id).first()
    if ticket is None or not _can_read_ticket(user, ticket):
        raise NotFound(_("No such ticket."))
    return ticket


def _can_read_ticket(user: User, ticket: Ticket) -> bool:
    from opsdesk.tickets.policy import can_view

    return can_view(user, ticket)


def _editable_article(by: User, article_id: int, revision: int | None) -> Article:
    """The article locked for this write, if ``by`` may edit it and (``revision``) saw its
    latest revision."""
    article = (Article.objects.select_for_update(of=("self",))
               .filter(pk=article_id, pk__in=readable_articles(by).values("pk")).first())
    if article is None:
        raise NotFound(_("No such article."))
    if not may_edit(by, article):
        raise PermissionRefused(
            _("Only the author and the department staff who read every ticket may change "
              "%s.") % article.key)
    if revision is not None and revision != article.revision:
        raise StaleVersion(
            _("%(key)s was changed by someone else (revision %(theirs)s, you had "
              "%(yours)s). Reload it and try again.")
            % {"key": article.key, "theirs": article.revision, "yours": revision},
            current_revision=article.revision)
    return article


def _save_revision(article: Article, by: User) -> None:
    article.revision += 1
    article.updated_at = timezone.now()
    article.updated_by = by
    article.save()


def _apply_article_fields(article: Article, fields: Mapping[str, Any]) -> None:
    """Set the given fields on ``article`` (texts trimmed), refusing unknown fields, values
    out of bounds and, naming all of them at once, required fields left empty."""
    unknown = sorted(set(fields) - set(ARTICLE_FIELDS))
    if unknown:
        raise InvalidField(_("Unknown field: %s.") % ", ".join(unknown), field=unknown[0])
    for name in ("title", *ARTICLE_TEXTS):
        if name in fields:
            setattr(article, name, _text(name, fields[name]))
    if "problem_type" in fields:
        kind = fields["problem_type"] or ""
        if kind and kind not in ProblemType.values:
            raise InvalidField(_("The problem type must be one of: %s.")
                               % ", ".join(str(label) for label in ProblemType.labels),
                               field="problem_type", choices=ProblemType.values)
        article.problem_type = kind
    if "module" in fields:
        article.module = _module(fields["module"])
    missing = [name for name in REQUIRED_ARTICLE_FIELDS if not getattr(article, name)]
    if missing:
        raise MissingFields(
            _("An article needs: %(fields)s.")
            % {"fields": ", ".join(str(_label(name)) for name in missing)},
            missing=missing)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidField(_("%s must be text.") % _label(name), field=name)
    limit = getattr(Article._meta.get_field(name), "max_length", None) or MAX_ARTICLE_TEXT
    text = value.strip()
    if len(text) > limit:
        raise InvalidField(_("%(field)s is longer than %(limit)s characters.")
                           % {"field": _label(name), "limit": limit}, field=name)
    return text


def _module(ref: Any) -> Module | None:
    if ref in (None, ""):
        return None
    if isinstance(ref, Module):
        return ref
    module = get_module_by_ref(ref)
    if module is None:
        raise InvalidField(_("No such module: %s.") % ref, field="module")
    return module


def _label(name: str) -> str:
    return str(getattr(Article._meta.get_field(name), "verbose_name", name))


def _link(article: Article, ticket: Ticket, *, by: User, at: Any,
          source: bool) -> ArticleTicket:
    link = ArticleTicket.objects.create(article=article, ticket=ticket, source=source,
                                        linked_by=by, linked_at=at)
    _announce(article, ticket, by=by, at=at, kind=TimelineEvent.Kind.LINKED)
    return link


def _announce(article: Article, ticket: Ticket, *, by: User, at: Any, kind: str) -> None:
    """The ticket's timeline records the link (or its removal): staff only while the article
    is a draft, which the submitter cannot open."""
    from opsdesk.tickets.services import record_event

    # "other" names the article by key and title, so that the timeline reads "Linked:
    # KB-3 …" in any language; "article" says what it is for machines.
    record_event(ticket=ticket, kind=kind, actor=by, at=at, internal=not article.is_published,
                 data={"link": {"kind": "", "direction": "outgoing",
                                "other": f"{article.key} {article.title}"},
                       "article": {"id": article.pk, "key": article.key,
                                   "title": article.title}})
