"""Migrations do not rebuild the tables that grow with the desk (runtime/online_columns.py): on
SQLite a rebuild copies every row while writes wait (6.3 s at 100,000 tickets), so adding a
column there takes SQLite's in-place ADD COLUMN, and a test names any migration that would
rebuild one of those tables."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from opsdesk.runtime.online_columns import AddFieldInPlace
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket
from tests.factories import ticket_in

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL adds a column with a constant default "
    "without rewriting the table, and never rebuilds one to alter it")

# The tables that grow with the tickets, by model.
GROWING = ("tickets.Ticket", "tickets.TimelineEvent", "tickets.Comment", "tickets.WorkLogStep",
           "tickets.Plan", "tickets.Attachment", "sla.Clock", "intake.Alert",
           "intake.InboundMessage", "notify.Notice", "notify.Delivery")
# Rebuilds shipped before this check, each copying its table once, on the upgrade that passes
# it: a comment's author made optional (mail from outside), and a notice's recipient index
# replaced by the unread-notices index. Installed desks past them never pay it again.
SHIPPED_REBUILDS = {("tickets", "0009_comment_from_outside"): {"tickets_comment"},
                    ("notify", "0009_unread_notices_index"): {"notify_notice"}}


def _opsdesk_migrations() -> Iterator[tuple[str, str]]:
    loader = MigrationLoader(connection)
    for app, name in sorted(loader.disk_migrations):
        if apps.get_app_config(app).name.startswith("opsdesk."):
            yield app, name


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a schema editor
def test_no_migration_rebuilds_a_growing_table_on_sqlite() -> None:
    tables = {apps.get_model(label)._meta.db_table for label in GROWING}
    rebuilding = {}
    for app, name in _opsdesk_migrations():
        if name.startswith("0001_"):
            continue  # creates its tables: nothing to copy yet
        sql = io.StringIO()
        call_command("sqlmigrate", app, name, stdout=sql)
        rebuilt = {table for table in tables if f'CREATE TABLE "new__{table}"' in sql.getvalue()}
        if rebuilt != SHIPPED_REBUILDS.get((app, name), set()):
            rebuilding[(app, name)] = rebuilt
    assert not rebuilding, (
        "These migrations would copy a large table on SQLite (use AddFieldInPlace to add a "
        f"column; state the cost in README.md's upgrade procedure otherwise): {rebuilding}")


PROBE = "online_probe"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_column_is_added_in_place_and_old_rows_read_its_default(
    people: dict[str, object],
) -> None:
    ticket = ticket_in(Status.NEW, people=people)
    before = ProjectState.from_apps(apps)
    operation = AddFieldInPlace(model_name="ticket", name=PROBE,
                                field=models.PositiveSmallIntegerField(default=7))
    after = before.clone()
    operation.state_forwards("tickets", after)
    table = Ticket._meta.db_table

    def root_page() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rootpage FROM sqlite_master WHERE name = %s", [table])
            return int(cursor.fetchone()[0])

    page = root_page()
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("tickets", editor, before, after)
    try:
        assert root_page() == page  # the same b-tree: no row was copied
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT "{PROBE}" FROM "{table}" WHERE id = %s', [ticket.pk])
            assert cursor.fetchone()[0] == 7
            with pytest.raises(Exception, match="CHECK"):
                cursor.execute(f'UPDATE "{table}" SET "{PROBE}" = -1')
    finally:
        with connection.schema_editor(atomic=False) as editor:
            operation.database_backwards("tickets", editor, after, before)
    assert PROBE not in {c.name for c in connection.introspection.get_table_description(
        connection.cursor(), table)}
