"""The index operations of migrations on large tables (runtime/online_indexes.py): forwards and
backwards they build and drop the index on either database, and on PostgreSQL they do it
CONCURRENTLY, so that tickets keep being written meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.apps import apps
from django.db import connection, migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState
from django.test.utils import CaptureQueriesContext

from opsdesk.runtime.online_indexes import (
    AddIndexOnline,
    ColumnIndexDroppedOnline,
    RemoveIndexOnline,
)
from opsdesk.tickets.models import Ticket

# Outside a transaction, as the migrations using them run (atomic = False): PostgreSQL refuses
# CONCURRENTLY inside one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PROBE = "ticket_online_probe"


def _constraints() -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Ticket._meta.db_table)


def _indexes() -> set[str]:
    return set(_constraints())


def _run(step: Callable[[BaseDatabaseSchemaEditor], None]) -> list[str]:
    """Runs ``step`` with a schema editor as a non-atomic migration has; the SQL it sent."""
    with (CaptureQueriesContext(connection) as sent,
          connection.schema_editor(atomic=False) as editor):
        step(editor)
    return [query["sql"] for query in sent if "INDEX" in query["sql"]]


def _indexes_of(columns: list[str]) -> set[str]:
    return {name for name, spec in _constraints().items()
            if spec["index"] and not spec["unique"] and spec["columns"] == columns}


def _concurrent(statements: list[str]) -> bool:
    return bool(statements) and all("CONCURRENTLY" in sql for sql in statements)


@pytest.fixture
def without_index() -> ProjectState:
    return ProjectState.from_apps(apps)


@pytest.fixture
def add(without_index: ProjectState) -> Iterator[tuple[AddIndexOnline, ProjectState]]:
    """The operation adding the probe index, and the state with it; the index goes at the end,
    since flushing the tables between tests keeps the schema."""
    operation = AddIndexOnline(model_name="ticket",
                               index=models.Index(fields=["title", "id"], name=PROBE))
    with_index = without_index.clone()
    operation.state_forwards("tickets", with_index)
    yield operation, with_index
    if PROBE in _indexes():
        _run(lambda editor: operation.database_backwards("tickets", editor, with_index,
                                                         without_index))


def test_adding_builds_the_index_and_going_back_drops_it(add, without_index):
    operation, with_index = add
    built = _run(lambda editor: operation.database_forwards("tickets", editor, without_index,
                                                            with_index))
    assert PROBE in _indexes()

    dropped = _run(lambda editor: operation.database_backwards("tickets", editor, with_index,
                                                               without_index))
    assert PROBE not in _indexes()
    online = connection.vendor == "postgresql"
    assert (_concurrent(built), _concurrent(dropped)) == (online, online)


def test_removing_drops_the_index_and_going_back_builds_it(add, without_index):
    adding, with_index = add
    _run(lambda editor: adding.database_forwards("tickets", editor, without_index, with_index))
    operation = RemoveIndexOnline(model_name="ticket", name=PROBE)
    removed = with_index.clone()
    operation.state_forwards("tickets", removed)

    dropped = _run(lambda editor: operation.database_forwards("tickets", editor, with_index,
                                                              removed))
    assert PROBE not in _indexes()

    built = _run(lambda editor: operation.database_backwards("tickets", editor, removed,
                                                             with_index))
    assert PROBE in _indexes()
    online = connection.vendor == "postgresql"
    assert (_concurrent(dropped), _concurrent(built)) == (online, online)


def test_a_column_index_is_dropped_beside_the_composite_one_and_built_again_going_back():
    """The submitter's own index (tickets 0020) is gone, ticket_submitter (submitter, id)
    stays; going back builds the column's index again, and forwards drops it."""
    assert _indexes_of(["submitter_id"]) == set()
    assert "ticket_submitter" in _indexes()
    without = ProjectState.from_apps(apps)
    _name, _path, args, kwargs = Ticket._meta.get_field("submitter").deconstruct()
    operation = ColumnIndexDroppedOnline(model_name="ticket", name="submitter",
                                         field=models.ForeignKey(*args, **kwargs))
    with_index = without.clone()
    migrations.AlterField(model_name="ticket", name="submitter", field=models.ForeignKey(
        *args, **{**kwargs, "db_index": True})).state_forwards("tickets", with_index)

    def drop(editor: BaseDatabaseSchemaEditor) -> None:
        operation.database_forwards("tickets", editor, with_index, without)

    built = _run(lambda editor: operation.database_backwards("tickets", editor, without,
                                                             with_index))
    try:
        assert len(_indexes_of(["submitter_id"])) == 1
    finally:  # the schema outlives the test: never leave the index behind
        dropped = _run(drop)
    assert _indexes_of(["submitter_id"]) == set()
    assert "ticket_submitter" in _indexes()
    online = connection.vendor == "postgresql"
    assert (_concurrent(built), _concurrent(dropped)) == (online, online)
