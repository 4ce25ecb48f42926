from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "opsdesk.accounts"
    label = "accounts"
    verbose_name = _("Accounts and modules")

    def ready(self) -> None:
        from opsdesk.accounts.models import User
        from opsdesk.runtime import snapshots

        snapshots.count("user accounts", User)
