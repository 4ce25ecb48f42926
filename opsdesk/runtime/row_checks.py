"""The start-up check that runtime/rows.py may write its models: their INSERTs skip ``save()``
and its signals, so a model written that way that comes to rely on either is refused by
``manage.py check`` (run as serve, worker and migrate start) instead of losing its behaviour
silently. Columns the database fills (database defaults, generated fields) rows.py honours.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks
from django.db.models import Model, signals

# The models rows.py writes; it refuses to write any other (rows._insert_plan), so each one
# written is checked here.
WRITTEN_MODELS = (
    "tickets.Ticket", "tickets.TimelineEvent", "tickets.Comment", "intake.Alert",
    "sla.Clock", "notify.Delivery", "notify.Notice", "django_tasks_database.DBTaskResult",
    "tickets.SupportRating",  # written only by bench/reports.py's loading
)

# save() overrides read and found to change nothing in a new row, each pinned to a digest of
# its source: editing one fails the check until someone reads it again and updates the digest.
REVIEWED_SAVE_OVERRIDES = {
    # Refuses to save an event twice; rows.py only inserts new ones.
    "tickets.TimelineEvent": "b4298fa1125f",
}

# Save-signal receivers read and found to change nothing in a row whose writer fills the
# columns they would fill, each pinned to a digest of its source as above.
REVIEWED_RECEIVERS = {
    # Sets run_after when it is None; runtime/tasks.enqueue_many always sets it.
    ("django_tasks_database.DBTaskResult", "django_tasks_db.signal_handlers.set_run_after"):
        "dc0eea753903",
}

SAVE_SIGNALS = {"pre_save": signals.pre_save, "post_save": signals.post_save}


def source_digest(function: Any) -> str:
    """A short digest of ``function``'s source, as REVIEWED_SAVE_OVERRIDES records it."""
    return hashlib.sha256(textwrap.dedent(inspect.getsource(function)).encode()).hexdigest()[:12]


def _save_override_problem(model: type[Model]) -> str | None:
    if model.save is Model.save:
        return None
    reviewed = REVIEWED_SAVE_OVERRIDES.get(model._meta.label)
    digest = source_digest(model.save)
    if reviewed is None:
        return ("it overrides save(), which rows.py's INSERT does not call. Write it "
                "through the ORM, or, if the override changes nothing in a new row, add "
                f"'{model._meta.label}': '{digest}' to REVIEWED_SAVE_OVERRIDES.")
    if reviewed != digest:
        return (f"its save() changed since it was reviewed ({reviewed}, now {digest}); rows.py's "
                "INSERT does not call it. Check that it still changes nothing in a new row, "
                "then update REVIEWED_SAVE_OVERRIDES.")
    return None


def _receivers(signal: signals.ModelSignal, model: type[Model]) -> list[Any]:
    sync, asynchronous = signal._live_receivers(model)  # type: ignore[attr-defined]
    return [*sync, *asynchronous]


def _receiver_problem(model: type[Model], signal_name: str, receiver: Any) -> str | None:
    name = (f"{getattr(receiver, '__module__', '?')}."
            f"{getattr(receiver, '__qualname__', type(receiver).__qualname__)}")
    reviewed = REVIEWED_RECEIVERS.get((model._meta.label, name))
    digest = _digest_or_unknown(receiver)
    if reviewed is not None and reviewed == digest:
        return None
    if reviewed is not None:
        return (f"its {signal_name} receiver {name} changed since it was reviewed ({reviewed}, "
                f"now {digest}); rows.py sends no signals. Check that it still changes nothing "
                "in the rows written, then update REVIEWED_RECEIVERS.")
    return (f"a {signal_name} receiver listens to it ({name}), and rows.py sends no signals. "
            "Write it through the ORM, or, if the receiver changes nothing in the rows written, "
            f"add ('{model._meta.label}', '{name}'): '{digest}' to REVIEWED_RECEIVERS.")


def _digest_or_unknown(receiver: Any) -> str:
    """The receiver's source digest; a callable whose source cannot be read (a partial, a
    built-in) has none and can never pass as reviewed."""
    try:
        return source_digest(receiver)
    except (OSError, TypeError):
        return "unknown"


def problems(model: type[Model]) -> list[str]:
    """Why rows.py cannot write ``model`` as the ORM would; empty when it can."""
    found = []
    override = _save_override_problem(model)
    if override:
        found.append(override)
    for name, signal in SAVE_SIGNALS.items():
        for receiver in _receivers(signal, model):
            problem = _receiver_problem(model, name, receiver)
            if problem:
                found.append(problem)
    if model._meta.parents:
        found.append("it inherits a table (multi-table inheritance), and rows.py writes one "
                     "table per row.")
    return found


@checks.register(checks.Tags.models)
def check_rows_models(app_configs: Iterable[Any] | None = None, **kwargs: Any
                      ) -> list[checks.CheckMessage]:
    """An error for each feature of a model written by rows.py that its INSERT would skip."""
    errors: list[checks.CheckMessage] = []
    for label in WRITTEN_MODELS:
        model = apps.get_model(label)
        errors += [checks.Error(f"rows.py writes {label} without the ORM, but {problem}",
                                obj=model, id="opsdesk.E101") for problem in problems(model)]
    return errors
