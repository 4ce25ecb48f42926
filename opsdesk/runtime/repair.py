"""Repairing moments stored before opsdesk bounded its inputs (``opsdesk/bounds.py``).

PostgreSQL stores a ``timestamptz`` up to the year 294276, Python reads one only up to
9999-12-31: a ticket filed as occurring at 9999-12-31T23:00-10:00 was kept as 10000-01-01 UTC,
and from then on every list holding it failed to load. Such a moment names nothing a person
meant, so an optional one is cleared and a required one is pulled back to the edge Python can
read. SQLite never stored them: Python could not convert them to UTC before the insert.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor

EARLIEST_READABLE = "0001-01-02 00:00:00+00"
LATEST_READABLE = "9999-12-30 00:00:00+00"


def repair_unreadable_moments(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Clear or clamp, in every table of this schema, moments Python cannot read back."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'timestamp with time zone'")
        columns = cursor.fetchall()
        for table, column, nullable in columns:
            outside = f"{quote(column)} < %s OR {quote(column)} > %s"
            if nullable == "YES":
                cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = NULL"
                               f" WHERE {outside}", [EARLIEST_READABLE, LATEST_READABLE])
            else:
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = CASE"
                    f" WHEN {quote(column)} < %s THEN %s::timestamptz ELSE %s::timestamptz END"
                    f" WHERE {outside}",
                    [EARLIEST_READABLE, EARLIEST_READABLE, LATEST_READABLE,
                     EARLIEST_READABLE, LATEST_READABLE])
