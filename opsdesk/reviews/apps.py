from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "opsdesk.reviews"
    label = "reviews"
    verbose_name = _("Post-incident reviews")

    def ready(self) -> None:
        from opsdesk.knowledge.services import on_documents
        from opsdesk.reviews.services import reopen_review_of, review_texts
        from opsdesk.tickets.hooks import on_ticket_change

        # A review's words are found with its ticket, by department staff.
        on_documents(review_texts)
        on_ticket_change(reopen_review_of)
