"""Background work of the knowledge app."""

from __future__ import annotations

from django_tasks import task

from opsdesk.knowledge.services import rebuild_article_index, rebuild_index


@task()
def rebuild_search_index() -> int:
    """Re-segment every ticket and article (asked for by an administrator after a dictionary
    change); how many tickets were indexed."""
    tickets = rebuild_index()
    rebuild_article_index()
    return tickets
