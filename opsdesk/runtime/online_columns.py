"""Adding a column to a large table without rebuilding it.

Django adds a NOT NULL column on SQLite by copying the whole table into a new one (SQLite
cannot drop a column's DEFAULT afterwards, so Django never declares one): at 100,000 tickets
that held the write lock for seconds while the desk waited. SQLite's own ``ALTER TABLE … ADD
COLUMN … DEFAULT <constant>`` changes only the schema: existing rows read the default, and no
row is copied. The column then keeps its DEFAULT clause in SQLite's schema, which nothing
relies on (opsdesk always writes every column). PostgreSQL (11 and later) adds a column with a
constant default without rewriting the table either, and Django's own way is kept there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState


class AddFieldInPlace(migrations.AddField):
    """``migrations.AddField`` that, on SQLite, adds a NOT NULL column with a constant default
    in place instead of rebuilding the table. Fields SQLite cannot add so (keys, unique or
    indexed columns, database defaults) take Django's way."""

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor,
                          from_state: ProjectState, to_state: ProjectState) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if (schema_editor.connection.vendor != "sqlite"
                or not self.allow_migrate_model(schema_editor.connection.alias, model)):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        field = model._meta.get_field(self.name)
        default = schema_editor.effective_default(field)
        definition, params = schema_editor.column_sql(model, field)
        if definition is None or not _addable_in_place(field, default):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        check = field.db_parameters(connection=schema_editor.connection)["check"]
        if check:  # as Django's own ADD COLUMN and table definitions add it
            definition += " " + schema_editor.sql_check_constraint % {"check": check}
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(model._meta.db_table)} ADD COLUMN {quote(field.column)} "
            f"{definition} DEFAULT {schema_editor.prepare_default(default)}", params)


def _addable_in_place(field: Any, default: Any) -> bool:
    return not (field.null or default is None or field.primary_key or field.unique
                or field.is_relation or field.db_index or field.has_db_default())
