"""Configuration changes on record: every write made on the administration pages is logged as
Django admin's LogEntry, so the admin's "history" of an object and its recent actions show it
whichever door it came through, with who and when."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models import Model
from django.utils import translation

from opsdesk.accounts.models import User


def _log(by: User, obj: Model, flag: int, message: list[dict[str, object]] | str) -> None:
    LogEntry.objects.log_actions(
        user_id=by.pk, queryset=[obj], action_flag=flag, change_message=message,
        single_object=True,
    )


def added(*, by: User, obj: Model) -> None:
    """``by`` created ``obj``."""
    _log(by, obj, ADDITION, [{"added": {}}])


def changed(*, by: User, obj: Model, fields: list[str]) -> None:
    """``by`` changed ``fields`` of ``obj``. Their verbose names are kept untranslated, as the
    admin keeps them, and translated when the history is read, in the reader's language."""
    with translation.override(None):
        names = [str(getattr(obj._meta.get_field(name), "verbose_name", name))
                 for name in fields]
    _log(by, obj, CHANGE, [{"changed": {"fields": names}}])


def deleted(*, by: User, obj: Model) -> None:
    """``by`` deleted ``obj`` (logged before the row goes, while it still has its id; no
    message, as the admin's own deletions)."""
    _log(by, obj, DELETION, "")
