"""Whole model rows written and read with SQL built once per model.

For the few paths run once per request or per alert (filing a ticket, looking up the person
it is filed for), building the ORM's statement costs more than the database takes to run
it: Django compiles an INSERT of a ticket's forty-odd columns anew every time. Values are
sent exactly as the ORM would send them: the common kinds of field converted directly, the
others through the field's own ``pre_save`` and ``get_db_prep_save``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


Convert = Callable[[Model], Any]
INTEGERS = (models.IntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
            models.SmallIntegerField, models.BigIntegerField)


def _converter(field: Field) -> Convert:
    """How ``field``'s value of an unsaved instance becomes the parameter the ORM would send.
    Django's own kinds of field are converted directly, as their ``get_db_prep_save`` would
    (whose chain of calls costs more than the insert); any other field or unusual value
    takes the ORM's way."""
    attname, kind = field.attname, type(field)

    def orm(obj: Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return orm
    if kind is models.JSONField:
        encoder = field.encoder  # type: ignore[attr-defined]

        def document(obj: Model) -> Any:
            value = getattr(obj, attname)
            if value is None:
                return None  # SQL NULL, as the ORM sends it
            if isinstance(value, dict | list | str | int | float):
                return connection.ops.adapt_json_value(value, encoder)
            return orm(obj)
        return document
    if kind is models.DateTimeField:
        # The rows of one write usually share their moment: its conversion is kept.
        memo: list[tuple[datetime | None, Any]] = [(None, None)]

        def moment(obj: Model) -> Any:
            value = getattr(obj, attname)
            if value is None:
                return None
            seen, converted = memo[0]
            if value is seen:
                return converted
            if isinstance(value, datetime) and value.tzinfo is not None:
                converted = connection.ops.adapt_datetimefield_value(value)
                memo[0] = (value, converted)
                return converted
            return orm(obj)
        return moment
    if kind in INTEGERS:
        return lambda obj: None if (value := getattr(obj, attname)) is None else int(value)
    if kind in (models.CharField, models.TextField):
        return lambda obj: None if (value := getattr(obj, attname)) is None else str(value)
    if kind in (models.ForeignKey, models.BooleanField):
        return lambda obj: getattr(obj, attname)
    return orm


@cache
def _insert_plan(model: type[Model], vendor: str
                 ) -> tuple[list[Field], list[Convert], str, str, str]:
    """The fields written and their conversions, the statement's head, one row's
    placeholders and its tail."""
    meta, quote = model._meta, connection.ops.quote_name
    pk = meta.pk
    generated = bool(getattr(pk, "db_returning", False))
    fields = [f for f in meta.concrete_fields if not (generated and f is pk)]
    head = (f"INSERT INTO {quote(meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) VALUES ")
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(pk.column)}" if generated and pk is not None else ""
    return fields, [_converter(f) for f in fields], head, row, tail


def insert(objects: Sequence[M]) -> None:
    """INSERT ``objects`` (unsaved, of one model) in as few statements as the database
    allows, setting their generated primary keys as ``bulk_create`` does. No signals."""
    if not objects:
        return
    model = type(objects[0])
    fields, converters, head, row, tail = _insert_plan(model, connection.vendor)
    per_statement = max(1, connection.ops.bulk_batch_size(fields, objects))
    with connection.cursor() as cursor:
        for start in range(0, len(objects), per_statement):
            batch = objects[start:start + per_statement]
            params = [convert(obj) for obj in batch for convert in converters]
            cursor.execute(head + ", ".join([row] * len(batch)) + tail, params)
            if tail:
                for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    obj.pk = pk
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def append(objects: Sequence[Model]) -> None:
    """INSERT ``objects`` (unsaved, of one model) without reading their keys back: one
    statement executed per row, which keeps a storm's thousands of rows out of one huge
    parameter list."""
    if not objects:
        return
    _fields, converters, head, row, _tail = _insert_plan(type(objects[0]), connection.vendor)
    with connection.cursor() as cursor:
        cursor.executemany(head + row, [[convert(obj) for convert in converters]
                                        for obj in objects])


@cache
def _read_plan(model: type[Model], vendor: str) -> tuple[list[str], list[tuple[Any, list[Any]]]]:
    """The attributes of a row of all concrete columns, and each column's conversions from
    the database (the backend's, then the field's), as the ORM applies them."""
    meta = model._meta
    columns = [f.get_col(meta.db_table) for f in meta.concrete_fields]
    converters = [(col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
                  for col in columns]
    return [f.attname for f in meta.concrete_fields], converters


def build(model: type[M], found: Sequence[Any]) -> M:
    """The instance of a row read as ``SELECT`` of all of ``model``'s concrete columns in
    their declared order."""
    attnames, converters = _read_plan(model, connection.vendor)
    values = []
    for raw, (col, convert) in zip(found, converters, strict=True):
        for converter in convert:
            raw = converter(raw, col, connection)
        values.append(raw)
    return model.from_db(connection.alias, attnames, values)


@cache
def _select_sql(model: type[Model], field_name: str, vendor: str) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    field = meta.get_field(field_name)
    assert isinstance(field, Field)
    return (f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} "
            f"FROM {quote(meta.db_table)} WHERE {quote(field.column)} = %s LIMIT 1")


def one(model: type[M], field_name: str, value: object) -> M | None:
    """The row whose unique ``field_name`` is ``value``, or None."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field)
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(model, field_name, connection.vendor),
                       [field.get_db_prep_value(value, connection)])
        found = cursor.fetchone()
    return None if found is None else build(model, found)
