"""Whole model rows written and read with SQL built once per model.

For the few paths run once per request or per alert (filing a ticket, looking up the person
it is filed for), building the ORM's statement costs more than the database takes to run
it: Django compiles an INSERT of a ticket's forty-odd columns anew every time. Values are
sent exactly as the ORM would send them: the common kinds of field converted directly, the
others through the field's own ``pre_save`` and ``get_db_prep_save``. Columns the database
fills, as the ORM leaves them to it (generated fields, and database defaults a row does not
set), are left out and, where keys are read back, read back with them. ``save()`` and its
signals are not run: the models written here are checked for them at start-up (row_checks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models import NOT_PROVIDED, Field, Model
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

from opsdesk.runtime.row_checks import WRITTEN_MODELS

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
        if kind is not models.DateTimeField:
            return orm

        def stamp(obj: Model) -> Any:
            # What the field's pre_save does on an insert, then the adapting of any moment.
            value = timezone.now()
            setattr(obj, attname, value)
            return connection.ops.adapt_datetimefield_value(value)
        return stamp
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
def _database_defaults(model: type[Model]) -> tuple[Field, ...]:
    """The fields of ``model`` the database fills when a row leaves them unset."""
    return tuple(f for f in model._meta.concrete_fields
                 if f.db_default is not NOT_PROVIDED and not f.generated)


def _left_to_database(obj: Model, defaults: tuple[Field, ...]) -> frozenset[str]:
    return frozenset(f.attname for f in defaults
                     if isinstance(getattr(obj, f.attname), DatabaseDefault))


@dataclass(frozen=True)
class InsertPlan:
    """The fields written and their conversions, the statement's head, one row's
    placeholders, and the fields the database fills with their conversions back."""

    fields: list[Field]
    converters: list[Convert]
    head: str
    row: str
    filled: list[Field]
    filled_converters: list[tuple[Any, list[Any]]]
    returning: str


@cache
def _insert_plan(model: type[Model], vendor: str, left_to_database: frozenset[str]
                 ) -> InsertPlan:
    """How rows of ``model`` are inserted that leave the fields ``left_to_database``
    (attnames of fields with a database default) to the database."""
    meta, quote = model._meta, connection.ops.quote_name
    if meta.label not in WRITTEN_MODELS:
        raise ImproperlyConfigured(
            f"rows.py writes only the models in row_checks.WRITTEN_MODELS, which start-up "
            f"checks; {meta.label} is not one of them.")
    generated_pk = meta.pk if getattr(meta.pk, "db_returning", False) else None

    def by_database(f: Field) -> bool:
        return f is generated_pk or f.generated or f.attname in left_to_database

    fields = [f for f in meta.concrete_fields if not by_database(f)]
    filled = [f for f in meta.concrete_fields if by_database(f)]
    head = (f"INSERT INTO {quote(meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) VALUES ")
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = f" RETURNING {', '.join(quote(f.column) for f in filled)}" if filled else ""
    return InsertPlan(fields, [_converter(f) for f in fields], head, row, filled,
                      _from_database(meta.db_table, filled), returning)


def _plans(objects: Sequence[M]) -> list[tuple[InsertPlan, list[M]]]:
    """The objects grouped by the plan that inserts them: one group unless some set a field
    with a database default and others leave it to the database."""
    model = type(objects[0])
    defaults = _database_defaults(model)
    if not defaults:
        return [(_insert_plan(model, connection.vendor, frozenset()), list(objects))]
    groups: dict[frozenset[str], list[M]] = {}
    for obj in objects:
        groups.setdefault(_left_to_database(obj, defaults), []).append(obj)
    return [(_insert_plan(model, connection.vendor, left), group)
            for left, group in groups.items()]


def insert(objects: Sequence[M]) -> None:
    """INSERT ``objects`` (unsaved, of one model) in as few statements as the database
    allows, setting their generated primary keys and the other columns the database filled,
    as ``save()`` does. No signals."""
    if not objects:
        return
    for plan, group in _plans(objects):
        per_statement = max(1, connection.ops.bulk_batch_size(plan.fields, group))
        with connection.cursor() as cursor:
            for start in range(0, len(group), per_statement):
                batch = group[start:start + per_statement]
                params = [convert(obj) for obj in batch for convert in plan.converters]
                cursor.execute(plan.head + ", ".join([plan.row] * len(batch)) + plan.returning,
                               params)
                if plan.filled:
                    for obj, found in zip(batch, cursor.fetchall(), strict=True):
                        _set_filled(obj, plan, found)
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def insert_new(objects: Sequence[M], unique: str) -> list[M]:
    """INSERT those of ``objects`` (unsaved, of one model) whose ``unique`` field holds a value
    no row has yet, setting their primary keys and the columns the database filled; a row
    already there (a concurrent writer's) is kept and its object left out. The objects
    inserted, in the order of their keys."""
    if not objects:
        return []
    field = type(objects[0])._meta.get_field(unique)
    assert isinstance(field, Field) and field.unique
    inserted: list[M] = []
    for plan, group in _plans(objects):
        place = plan.fields.index(field)
        column = connection.ops.quote_name(field.column)
        tail = f" ON CONFLICT ({column}) DO NOTHING RETURNING {column}" + (
            ", " + plan.returning.removeprefix(" RETURNING ") if plan.filled else "")
        per_statement = max(1, connection.ops.bulk_batch_size(plan.fields, group))
        with connection.cursor() as cursor:
            for start in range(0, len(group), per_statement):
                batch = group[start:start + per_statement]
                params = [convert(obj) for obj in batch for convert in plan.converters]
                by_value = {params[i * len(plan.fields) + place]: obj
                            for i, obj in enumerate(batch)}
                cursor.execute(plan.head + ", ".join([plan.row] * len(batch)) + tail, params)
                for value, *filled in cursor.fetchall():
                    obj = by_value[value]
                    _set_filled(obj, plan, filled)
                    obj._state.adding, obj._state.db = False, connection.alias
                    inserted.append(obj)
    return sorted(inserted, key=lambda obj: obj.pk)


def _set_filled(obj: Model, plan: InsertPlan, found: Sequence[Any]) -> None:
    for field, raw, (col, convert) in zip(plan.filled, found, plan.filled_converters,
                                          strict=True):
        for converter in convert:
            raw = converter(raw, col, connection)
        setattr(obj, field.attname, raw)


def append(objects: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT ``objects`` (unsaved, of one model) without reading their keys, nor any other
    column the database fills, back: one statement executed per row, which keeps a storm's
    thousands of rows out of one huge parameter list. With ``ignore_conflicts`` a row that
    would break a unique constraint is left out, as ``bulk_create(ignore_conflicts=True)``
    leaves it, without breaking the caller's transaction."""
    if not objects:
        return
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    for plan, group in _plans(objects):
        with connection.cursor() as cursor:
            cursor.executemany(plan.head + plan.row + tail,
                               [[convert(obj) for convert in plan.converters] for obj in group])


def _from_database(table: str, fields: Sequence[Field]) -> list[tuple[Any, list[Any]]]:
    """Each column's conversions from the database (the backend's, then the field's), as
    the ORM applies them."""
    columns = [f.get_col(table) for f in fields]
    return [(col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            for col in columns]


@cache
def _read_plan(model: type[Model], vendor: str) -> tuple[list[str], list[tuple[Any, list[Any]]]]:
    """The attributes of a row of all concrete columns, and each column's conversions from
    the database (the backend's, then the field's), as the ORM applies them."""
    meta = model._meta
    return ([f.attname for f in meta.concrete_fields],
            _from_database(meta.db_table, meta.concrete_fields))


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
