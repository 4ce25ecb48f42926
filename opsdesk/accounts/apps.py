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
        # Modules, people and their roles are read from the configuration cache
        # (get_module_by_ref, module_names, people_with_roles).
        config.watch(Module, User, m2m=(User.groups.through,))
