from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "opsdesk.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge and search")

    def ready(self) -> None:
        from opsdesk.accounts.models import Module
        from opsdesk.knowledge.models import SearchTerm
        from opsdesk.knowledge.services import reindex_changed_ticket
        from opsdesk.runtime import config
        from opsdesk.tickets.hooks import Stage, on_ticket_change

        on_ticket_change(reindex_changed_ticket, stage=Stage.SEARCH)
        # The segmenter's dictionary holds the modules' names and the admins' terms.
        config.watch(Module, SearchTerm)
