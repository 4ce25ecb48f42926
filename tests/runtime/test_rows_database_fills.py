"""Columns the database fills are left to it by rows.py as by the ORM: a database default a
row does not set (a ticket once stored the text "<DatabaseDefault object at 0x…>" instead)
and a generated column, read back into the instances ``insert`` writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, models
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test.utils import isolate_apps

from opsdesk.runtime import rows

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def reading(monkeypatch: Any) -> Iterator[type[models.Model]]:
    """A model with a database default and a generated column, its table created for the
    test, that rows.py may write."""
    with isolate_apps("opsdesk.runtime"):
        class Reading(models.Model):
            host = models.CharField(max_length=20)
            level = models.CharField(max_length=10, db_default="warning")
            count = models.IntegerField(db_default=1)
            headline = models.GeneratedField(
                expression=Concat(F("level"), Value(" @ "), F("host")),
                output_field=models.CharField(max_length=40), db_persist=True)

            class Meta:
                app_label = "runtime"

            def __str__(self) -> str:
                return self.host

        with connection.schema_editor() as editor:
            editor.create_model(Reading)
        monkeypatch.setattr(rows, "WRITTEN_MODELS", (*rows.WRITTEN_MODELS, "runtime.Reading"))
        try:
            yield Reading
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(Reading)


def stored(model: type[models.Model]) -> list[tuple[Any, ...]]:
    return list(model.objects.order_by("pk").values_list("host", "level", "count", "headline"))


def test_insert_leaves_database_defaults_and_generated_columns_to_the_database(
    reading: Any,
) -> None:
    unset, set_level = reading(host="db-3"), reading(host="db-4", level="critical")
    rows.insert([unset, set_level])
    assert stored(reading) == [("db-3", "warning", 1, "warning @ db-3"),
                               ("db-4", "critical", 1, "critical @ db-4")]
    assert (unset.level, unset.count, unset.headline) == ("warning", 1, "warning @ db-3")
    assert set_level.headline == "critical @ db-4"
    assert unset.pk is not None and set_level.pk is not None


def test_rows_store_what_the_orm_stores(reading: Any) -> None:
    reading(host="db-3").save()
    reading(host="db-4", count=7).save()
    by_orm = stored(reading)
    reading.objects.all().delete()
    rows.append([reading(host="db-3"), reading(host="db-4", count=7)])
    assert stored(reading) == by_orm
