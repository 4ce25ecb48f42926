"""Who may read and write knowledge articles.

Published articles are for everyone signed in: they are how a fix is shared. A draft may
hold what only the tickets it was written from show (a cause, a host), so it is read by
the department staff who read every ticket and by its author; they, and no one else, edit
it. Department staff may write new articles.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from opsdesk.accounts.models import User
from opsdesk.knowledge.models import Article, ArticleStatus


def readable_articles(user: User) -> QuerySet[Article]:
    """The articles ``user`` may read."""
    articles = Article.objects.all()
    if user.sees_all_tickets:
        return articles
    if user.is_department_staff:
        return articles.filter(Q(status=ArticleStatus.PUBLISHED) | Q(author=user))
    return articles.filter(status=ArticleStatus.PUBLISHED)


def may_write_articles(user: User) -> bool:
    return user.is_department_staff


def may_edit(user: User, article: Article) -> bool:
    """Edit, publish, withdraw and link tickets to ``article``."""
    return user.is_department_staff and (user.sees_all_tickets or article.author_id == user.pk)
