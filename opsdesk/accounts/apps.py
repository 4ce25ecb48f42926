from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "opsdesk.accounts"
    label = "accounts"
    verbose_name = _("Accounts and modules")

    def ready(self) -> None:
        from opsdesk.accounts.models import Module, User
        from opsdesk.runtime import config, snapshots

        snapshots.count("user accounts", User)
        config.watch(Module)  # get_module_by_ref reads them from the configuration cache
