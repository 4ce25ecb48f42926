"""What people call a field, for messages that name one: its label in the reader's language,
never its code (a Chinese reader was told "你不能修改：priority。"). Machines still get the
codes, in an error's ``details``."""

from __future__ import annotations

import functools
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.utils.translation import gettext_lazy

# Names several models use for different things ("kind": a plan's, a link's, a step's): a
# word that fits each, before any one model's label.
SHARED_NAMES = {
    "kind": gettext_lazy("kind"),
    "file": gettext_lazy("file"),
    "action": gettext_lazy("action"),
    "ticket": gettext_lazy("ticket"),
    "body": gettext_lazy("body"),
    "message": gettext_lazy("message"),
}


@functools.cache
def _labels() -> dict[str, Any]:
    """Each field name → its lazily translated label: the shared names, the workflow's fields
    (the ones people fill in), then the ticket's columns, then every other model's."""
    from opsdesk.tickets import fields
    from opsdesk.tickets.models import Ticket

    found: dict[str, Any] = dict(SHARED_NAMES)
    for value in vars(fields).values():
        if isinstance(value, fields.Field):
            found.setdefault(value.name, value.label)
    models: list[type[Model]] = [Ticket, *(m for m in apps.get_models() if m is not Ticket)]
    for model in models:
        for column in model._meta.get_fields():
            verbose = getattr(column, "verbose_name", None)
            if verbose is not None and not column.name.startswith("_"):
                found.setdefault(column.name, verbose)
                found.setdefault(getattr(column, "attname", column.name), verbose)  # module_id
    return found


def label(name: str) -> str:
    """The label of the field ``name`` (or of the last named part of a dotted path such as
    ``fields.priority``) in the active language; the name itself when none is known."""
    parts = [p for p in str(name).split(".") if p and not p.isdigit()]
    if not parts:
        return str(name)
    found = _labels().get(parts[-1])
    return str(found) if found is not None else parts[-1]


def labels(names: Any) -> str:
    """Several fields' labels, joined as a list in a sentence."""
    return ", ".join(dict.fromkeys(label(n) for n in names))

