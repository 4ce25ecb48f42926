from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from opsdesk.runtime.periodic import Job


class ReviewsConfig(AppConfig):
    name = "opsdesk.reviews"
    label = "reviews"
    verbose_name = _("Post-incident reviews")

    def ready(self) -> None:
        from opsdesk.knowledge.services import on_documents
        from opsdesk.reviews.services import reopen_review_of, review_texts
        from opsdesk.runtime import periodic
        from opsdesk.tickets.hooks import Stage, on_ticket_change

        # A review's words are found with its ticket, by department staff.
        on_documents(review_texts)
        on_ticket_change(reopen_review_of, stage=Stage.REVIEWS)
        periodic.register(periodic_jobs)


def periodic_jobs() -> list[Job]:
    """The reviews' job in the worker (imported there only)."""
    from opsdesk.reviews.follow_ups import follow_up
    from opsdesk.runtime.periodic import Job

    return [Job("review-follow-ups", 300, follow_up)]
