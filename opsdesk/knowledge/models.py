"""The search indexes of tickets and articles, the words the segmenter must keep whole, and
the knowledge articles: their tickets and the problems they solved without one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import Module, ProblemType, User
from opsdesk.tickets.models import Ticket


class SearchTerm(models.Model):
    """A word of the department (a system's name, jargon) that search keeps whole: with
    鉴权 in the dictionary, 鉴权失败 is searched as 鉴权 + 失败 instead of 鉴 + 权 + 失败."""

    word = models.CharField(_("word"), max_length=50, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["word"]
        verbose_name = _("search term")
        verbose_name_plural = _("search terms")

    def __str__(self) -> str:
        return self.word

    def clean(self) -> None:
        from opsdesk.knowledge.words import han_words

        self.word = self.word.strip()
        if not han_words(self.word):
            raise ValidationError({"word": _(
                "A term needs two or more Chinese characters in a row: words of letters and "
                "digits are searchable as they are.")})


class TicketIndex(models.Model):
    """A ticket's row in the search index, which migration 0001 creates for the database in
    use: on SQLite an FTS5 table (its rowid is the ticket's id), on PostgreSQL a table with a
    tsvector and a GIN index. Written only through ``knowledge.index``; the model exists so
    that ticket queries can join it."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.DO_NOTHING, primary_key=True, db_column="rowid",
        db_constraint=False, related_name="search_index",
    )

    class Meta:
        managed = False
        db_table = "knowledge_ticketindex"

    def __str__(self) -> str:
        return f"index of ticket {self.pk}"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Article(models.Model):
    """A knowledge article: a problem, its cause, its solution and how to prevent it, written
    once (usually from a closed ticket's resolution report) so that the next person finds
    the fix. Drafts are for department staff; published articles for everyone signed in."""

    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem"))
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution"))
    prevention = models.TextField(_("prevention"), blank=True)
    module = models.ForeignKey(Module, verbose_name=_("module"), on_delete=models.PROTECT,
                               null=True, blank=True, related_name="articles")
    problem_type = models.CharField(_("problem type"), max_length=20,
                                    choices=ProblemType.choices, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ArticleStatus.choices,
                              default=ArticleStatus.DRAFT)
    author = models.ForeignKey(User, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="articles")
    updated_by = models.ForeignKey(User, verbose_name=_("last edited by"),
                                   on_delete=models.PROTECT, related_name="+")
    tickets: models.ManyToManyField[Ticket, ArticleTicket] = models.ManyToManyField(
        Ticket, through="ArticleTicket", related_name="articles", verbose_name=_("tickets"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Optimistic concurrency: every edit names the revision it was made from.
    revision = models.PositiveIntegerField(_("revision"), default=1)
    # How often someone about to report a problem said this article solved it (once per
    # person: ``Deflection``), and how often a published article was read.
    resolved_without_ticket = models.PositiveIntegerField(
        _("resolved without a ticket"), default=0)
    views = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [models.Index(fields=["status", "-updated_at"], name="article_status")]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"KB-{self.pk}"

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleTicket(models.Model):
    """A ticket the article answers: the one it was written from (``source``), or one linked
    since (a recurrence solved by it)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_links")
    source = models.BooleanField(_("written from it"), default=False)
    linked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "ticket"], name="unique_article_ticket"),
            # One article is written from a ticket; others may be linked to it.
            models.UniqueConstraint(fields=["ticket"], condition=models.Q(source=True),
                                    name="one_article_from_a_ticket"),
        ]
        verbose_name = _("ticket of an article")
        verbose_name_plural = _("tickets of articles")

    def __str__(self) -> str:
        return f"{self.article_id} – {self.ticket_id}"


class Deflection(models.Model):
    """Someone said the article solved their problem before they reported it: counted once
    per person and article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "person"], name="unique_deflection")
        ]
        verbose_name = _("problem solved by an article")
        verbose_name_plural = _("problems solved by articles")

    def __str__(self) -> str:
        return f"{self.article_id} – {self.person_id}"


class ArticleIndex(models.Model):
    """An article's row in the search index (created by migration 0002 as ``TicketIndex``'s
    is by 0001); written only through ``knowledge.index``."""

    article = models.OneToOneField(
        Article, on_delete=models.DO_NOTHING, primary_key=True, db_column="rowid",
        db_constraint=False, related_name="search_index",
    )

    class Meta:
        managed = False
        db_table = "knowledge_articleindex"

    def __str__(self) -> str:
        return f"index of article {self.pk}"
