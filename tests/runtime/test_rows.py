"""Rows written through runtime/rows.py are stored exactly as the ORM's ``save()`` stores
them: every column of every model it writes, with Chinese text, time zones, enums, JSON,
decimals, durations, NULLs and foreign keys, read back identical; ``insert`` leaves the
instances as ``save()`` does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Model
from django_tasks_db.models import DBTaskResult

from opsdesk.accounts.models import Module, User
from opsdesk.intake.models import Alert, Integration
from opsdesk.notify.models import Delivery, Notice
from opsdesk.runtime import rows
from opsdesk.runtime.row_checks import WRITTEN_MODELS
from opsdesk.sla.models import Clock
from opsdesk.tickets import services
from opsdesk.tickets.choices import Channel, Priority, SourceKind
from opsdesk.tickets.models import Comment, SupportRating, Ticket, TimelineEvent
from tests.factories import ModuleFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 10, 0, 0, 123456, tzinfo=SH)


def alert_ticket(people: dict[str, User], module: Module | None) -> Ticket:
    return services.new_ticket(
        by=people["duty"], title="[NodeDown] 节点 db-3 无法访问 @ db-3", impact="all_users",
        urgency="immediate", source_kind=SourceKind.ALERT, channel=Channel.ALERTMANAGER,
        submitter_name="prometheus", occurred_at=datetime(2026, 11, 18, 9, 58, tzinfo=SH),
        alert_at=datetime(2026, 11, 18, 9, 59, 30, tzinfo=SH), alert_host="db-3",
        alert_rule="NodeDown", alert_level="critical", alert_symptom="无法访问",
        description="node_exporter 已 3 分钟没有响应。",
        module=module,
    )


@dataclass
class Saved:
    """What the samples point to, saved before them."""

    people: dict[str, User]
    ticket: Ticket
    integration: Integration


def event(saved: Saved) -> TimelineEvent:
    return TimelineEvent(ticket=saved.ticket, kind="comment", actor=saved.people["duty"], at=NOW,
                         data={"text": "<b>不要</b>渲染", "list": [1, None, True], "ratio": 0.5},
                         internal=True)


def comment(saved: Saved) -> Comment:
    return Comment(ticket=saved.ticket, author=None, author_name="孙丽 <sun@example.cn>",
                   body="还是打不开\n第二行", internal=False, created_at=NOW)


def alert(saved: Saved) -> Alert:
    return Alert(integration=saved.integration, identity="fp:3f2a", ticket=saved.ticket,
                 first_seen=NOW,
                 last_seen=NOW, labels={"alertname": "NodeDown", "实例": "db-3"},
                 peak_priority=Priority.URGENT)


def clock(saved: Saved) -> Clock:
    return Clock(ticket=saved.ticket, response_target=timedelta(minutes=30),
                 resolution_target=timedelta(hours=4, microseconds=1), started_at=NOW,
                 response_days=Decimal("0.25"), response_due_at=NOW + timedelta(minutes=30),
                 warning_fraction=0.8)


def delivery(saved: Saved, key: str = "a1" * 32) -> Delivery:
    return Delivery(notification_kind="received", notification_key=f"received:{saved.ticket.pk}",
                    dedupe_key=key, ticket=saved.ticket, recipient=saved.people["submitter"],
                    recipient_name="孙丽", channel_kind="email", address="sun@example.cn",
                    language="zh-hans", subject="[OPS-1] 已受理：打不开", body="第一行\n第二行",
                    created_at=NOW, next_attempt_at=NOW + timedelta(hours=8))


def notice(saved: Saved, key: str = "assigned:1") -> Notice:
    return Notice(recipient=saved.people["owner"], kind="assigned", key=key,
                  ticket=saved.ticket, actor=None, subject="[OPS-1] 已分派给 王磊：打不开")


def task(saved: Saved) -> DBTaskResult:
    return DBTaskResult(id=uuid.UUID(int=7), args_kwargs={"args": [[3, 4]], "kwargs": {}},
                        priority=0, task_path="opsdesk.notify.tasks.deliver_all",
                        queue_name="default", run_after=NOW + timedelta(minutes=5),
                        backend_name="default")


def rating(saved: Saved) -> SupportRating:
    return SupportRating(ticket=saved.ticket, rated_by=saved.people["submitter"], score=4,
                         comment="很快")


# One of each model rows.py writes; a model added to WRITTEN_MODELS needs one here.
SAMPLES: dict[str, Callable[[Saved], Model]] = {
    "tickets.Ticket": lambda saved: alert_ticket(saved.people, saved.ticket.module),
    "tickets.TimelineEvent": event,
    "tickets.Comment": comment,
    "intake.Alert": alert,
    "sla.Clock": clock,
    "notify.Delivery": delivery,
    "notify.Notice": notice,
    "django_tasks_database.DBTaskResult": task,
    "tickets.SupportRating": rating,
}


@pytest.fixture
def saved(people: dict[str, User]) -> Saved:
    ticket = alert_ticket(people, ModuleFactory(code="db", name="数据库", owner=people["owner"]))
    ticket.save()
    integration = Integration.objects.create(name="prometheus", kind="alertmanager",
                                             secret_digest="0" * 64, secret_prefix="od_")
    return Saved(people, ticket, integration)


def every_column(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def written(sample: Callable[[Saved], Model], write: Callable[[list[Model]], None],
            saved: Saved) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row ``write`` stores for ``sample`` (read back through the ORM), and the
    instance's columns afterwards; rolled back, so each way writes the same sample."""
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        obj = sample(saved)
        write([obj])
        model = type(obj)
        newest = model.objects.order_by("-pk").first()
        transaction.set_rollback(True)
    assert newest is not None
    return every_column(newest), every_column(obj)


def by_orm(objects: list[Model]) -> None:
    for obj in objects:
        obj.save()


def without_generated_key(columns: dict[str, Any], model: type[Model]) -> dict[str, Any]:
    pk = model._meta.pk
    if pk is not None and getattr(pk, "db_returning", False):
        return {k: v for k, v in columns.items() if k != pk.attname}
    return columns


def test_every_model_rows_writes_has_a_sample() -> None:
    assert set(SAMPLES) == set(WRITTEN_MODELS)


@pytest.mark.parametrize("label", WRITTEN_MODELS)
def test_a_row_inserted_by_rows_equals_one_saved_by_the_orm(
    label: str, saved: Saved,
) -> None:
    sample, model = SAMPLES[label], apps.get_model(label)
    orm_row, orm_instance = written(sample, by_orm, saved)
    rows_row, rows_instance = written(sample, rows.insert, saved)
    assert without_generated_key(rows_row, model) == without_generated_key(orm_row, model)
    assert rows_instance[model._meta.pk.attname] == rows_row[model._meta.pk.attname]
    assert without_generated_key(rows_instance, model) == without_generated_key(orm_instance,
                                                                                model)


@pytest.mark.parametrize("label", WRITTEN_MODELS)
def test_a_row_appended_by_rows_equals_one_saved_by_the_orm(
    label: str, saved: Saved,
) -> None:
    sample, model = SAMPLES[label], apps.get_model(label)
    orm_row, _instance = written(sample, by_orm, saved)
    rows_row, _instance = written(sample, rows.append, saved)
    assert without_generated_key(rows_row, model) == without_generated_key(orm_row, model)


def test_insert_new_stores_what_the_orm_would(saved: Saved) -> None:
    orm_row, orm_instance = written(delivery, by_orm, saved)
    new_row, new_instance = written(
        delivery, lambda objects: rows.insert_new(objects, "dedupe_key"), saved)
    assert without_generated_key(new_row, Delivery) == without_generated_key(orm_row, Delivery)
    assert new_instance["id"] == new_row["id"]
    assert without_generated_key(new_instance, Delivery) == without_generated_key(orm_instance,
                                                                                  Delivery)


def test_insert_new_keeps_the_rows_already_there(saved: Saved) -> None:
    """A key already stored (a concurrent writer's) keeps its row and is left out of what is
    returned; the new ones are inserted and returned in the order of their keys."""
    first = delivery(saved, "k1" * 32)
    assert rows.insert_new([first], "dedupe_key") == [first]
    again, second, third = (delivery(saved, key * 32) for key in ("k1", "k2", "k3"))
    again.subject = "另一个"
    inserted = rows.insert_new([third, again, second], "dedupe_key")
    assert inserted == [third, second]
    assert third.pk < second.pk and again.pk is None and again._state.adding
    assert Delivery.objects.get(dedupe_key="k1" * 32).subject == first.subject
    assert Delivery.objects.count() == 3
    assert rows.insert_new([], "dedupe_key") == []


def test_append_ignoring_conflicts_keeps_the_rows_already_there(saved: Saved) -> None:
    """A notice already given (the same call made again) keeps its one row, the others are
    written, and the caller's transaction goes on."""
    first = notice(saved)
    rows.append([first], ignore_conflicts=True)
    again, other = notice(saved), notice(saved, "assigned:2")
    again.subject = "另一个"
    with transaction.atomic():
        rows.append([again, other], ignore_conflicts=True)
        assert Notice.objects.count() == 2
    assert Notice.objects.get(key="assigned:1").subject == first.subject


def test_a_model_the_start_up_check_does_not_know_is_refused(people: dict[str, User]) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"accounts\.Module"):
        rows.insert([Module(code="net", name="网络")])
    assert not Module.objects.exists()
