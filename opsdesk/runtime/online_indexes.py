"""Index operations for large tables that do not stop the desk while a migration runs.

On PostgreSQL ``CREATE INDEX CONCURRENTLY`` builds the index while tickets keep being written
(the migration that uses these must say ``atomic = False``: PostgreSQL refuses it inside a
transaction). SQLite has no such form: its ``CREATE INDEX`` holds the write lock while it reads
the table (about 2 s per index at 1,000,000 tickets, bench/README.md *Reports*), which the
upgrade procedure in README.md accounts for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

if TYPE_CHECKING:
    from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgresEditor


class _Concurrently:
    """A PostgreSQL schema editor whose index builds and drops are CONCURRENTLY: Django's own
    index operations then run unchanged (which state, which model, which index) on top of it."""

    def __init__(self, editor: PostgresEditor) -> None:
        self._editor = editor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._editor, name)

    def add_index(self, model: Any, index: Any) -> None:
        self._editor.add_index(model, index, concurrently=True)

    def remove_index(self, model: Any, index: Any) -> None:
        self._editor.remove_index(model, index, concurrently=True)


class _Online(Operation):
    """Put before Django's index operation in the bases: on PostgreSQL it works concurrently."""

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                          from_state: ProjectState, to_state: ProjectState) -> None:
        super().database_forwards(app_label, _online(schema_editor), from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                           from_state: ProjectState, to_state: ProjectState) -> None:
        super().database_backwards(app_label, _online(schema_editor), from_state, to_state)


def _concurrent_builds(editor: BaseDatabaseSchemaEditor) -> bool:
    return editor.connection.vendor == "postgresql"


def _online(editor: BaseDatabaseSchemaEditor) -> Any:
    if _concurrent_builds(editor):
        return _Concurrently(cast("PostgresEditor", editor))
    return editor


class ColumnIndexDroppedOnline(migrations.AlterField):
    """``migrations.AlterField`` for a field whose own index goes (``db_index=False``) because
    another index serves its reads: the index is dropped by name, concurrently on PostgreSQL,
    where Django's SQLite editor would copy the whole table for it. (An index on (column, id)
    is the same index on SQLite; one with other columns between is not: it cannot list the
    column's rows newest first.)"""

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                          from_state: ProjectState, to_state: ProjectState) -> None:
        editor: Any = schema_editor  # the editor's index helpers are not in its stubs
        model = from_state.apps.get_model(app_label, self.model_name)
        column = model._meta.get_field(self.name).column
        # Django's own names for the index (its suffix, exactly this one column).
        for name in editor._constraint_names(model, [column], index=True,
                                             type_=models.Index.suffix):
            editor.execute(editor._delete_index_sql(model, name, **_online_kwargs(editor)))

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                           from_state: ProjectState, to_state: ProjectState) -> None:
        editor: Any = schema_editor
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        editor.execute(editor._create_index_sql(model, fields=[field], **_online_kwargs(editor)))


def _online_kwargs(editor: BaseDatabaseSchemaEditor) -> dict[str, bool]:
    return {"concurrently": True} if _concurrent_builds(editor) else {}


class AddIndexOnline(_Online, migrations.AddIndex):
    """``migrations.AddIndex``, built concurrently on PostgreSQL."""


class RemoveIndexOnline(_Online, migrations.RemoveIndex):
    """``migrations.RemoveIndex``, dropped concurrently on PostgreSQL."""
