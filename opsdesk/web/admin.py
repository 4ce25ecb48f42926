"""The Django admin, kept for the rare change the administration pages (/manage/) do not
make, in the reader's language throughout: opsdesk's own name at its top, and the apps and
models of django-tasks and django-axes named in Chinese too. Those packages look their labels up
lazily in every catalogue, so listing their words here is what keeps them, with their
translations, in opsdesk's (``make messages`` reads this file)."""

from __future__ import annotations

import contextlib

from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("opsdesk administration (all settings)")
admin.site.site_title = _("opsdesk administration")

APP_NAMES = {
    "django_tasks_database": _("Background tasks"),
    "axes": _("Sign-in attempts"),
}
for label, name in APP_NAMES.items():
    with contextlib.suppress(LookupError):  # a deployment may leave axes out
        apps.get_app_config(label).verbose_name = name  # type: ignore[assignment]

THEIR_WORDS = (
    # django-tasks-db: DBTaskResult
    _("Task Result"), _("Task Results"), _("enqueued at"), _("args kwargs"), _("task path"),
    _("worker id"), _("queue name"), _("backend name"), _("run after"), _("return value"),
    _("exception class path"), _("traceback"), _("Ready"), _("Running"), _("Failed"),
    _("Successful"),
    # django-axes: AccessAttempt, AccessFailureLog, AccessLog, AccessAttemptExpiration
    _("access attempt"), _("access attempts"), _("access failure"), _("access failures"),
    _("access log"), _("access logs"), _("access attempt expiration"),
    _("access attempt expirations"), _("Access Attempt"), _("Expires At"), _("User Agent"),
    _("IP Address"), _("HTTP Accept"), _("Path"), _("Attempt Time"), _("Access lock out"),
    _("GET Data"), _("POST Data"), _("Failed Logins"), _("Logout Time"),
    _("Session key hash (sha256)"),
)
