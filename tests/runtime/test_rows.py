"""Rows written through runtime/rows.py are stored exactly as the ORM stores them: every
column of a ticket and of timeline events, with Chinese text, time zones, enums, JSON,
NULLs and foreign keys, read back identical."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.forms.models import model_to_dict

from opsdesk.accounts.models import User
from opsdesk.runtime import rows
from opsdesk.tickets import services
from opsdesk.tickets.choices import Channel, SourceKind
from opsdesk.tickets.models import Ticket, TimelineEvent

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def stored(model: type[Any], pk: int, *ignored: str) -> dict[str, Any]:
    found = model.objects.get(pk=pk)
    return {k: v for k, v in model_to_dict(found).items() if k not in ("id", *ignored)}


def alert_ticket(people: dict[str, User]) -> Ticket:
    return services.new_ticket(
        by=people["duty"], title="[NodeDown] 节点 db-3 无法访问 @ db-3", impact="all_users",
        urgency="immediate", source_kind=SourceKind.ALERT, channel=Channel.ALERTMANAGER,
        submitter_name="prometheus", occurred_at=datetime(2026, 11, 18, 9, 58, tzinfo=SH),
        alert_at=datetime(2026, 11, 18, 9, 59, 30, tzinfo=SH), alert_host="db-3",
        alert_rule="NodeDown", alert_level="critical", alert_symptom="无法访问",
        description="node_exporter 已 3 分钟没有响应。",
    )


def test_a_ticket_inserted_by_rows_equals_one_saved_by_the_orm(people: dict[str, User]) -> None:
    with time_machine.travel(datetime(2026, 11, 18, 10, 0, tzinfo=SH), tick=False):
        by_orm, by_rows = alert_ticket(people), alert_ticket(people)
    by_orm.save()
    rows.insert([by_rows])
    assert by_rows.pk is not None and by_rows.pk != by_orm.pk
    assert stored(Ticket, by_rows.pk, "key") == stored(Ticket, by_orm.pk, "key")


def test_events_appended_by_rows_equal_events_saved_by_the_orm(
    people: dict[str, User],
) -> None:
    ticket = alert_ticket(people)
    ticket.save()
    at = datetime(2026, 11, 18, 10, 0, 1, 123456, tzinfo=SH)

    def events() -> list[TimelineEvent]:
        return [
            TimelineEvent(ticket=ticket, kind=TimelineEvent.Kind.ALERT, actor=None, at=at,
                          data={"status": "firing", "labels": {"instance": "db-3:9100"},
                                "说明": "第 3 次", "occurrences": 3, "ratio": 0.5}),
            TimelineEvent(ticket=ticket, kind="comment", actor=people["duty"], at=at,
                          data={"text": "<b>不要</b>渲染", "list": [1, None, True]},
                          internal=True),
            TimelineEvent(ticket=ticket, kind=TimelineEvent.Kind.SLA, actor=None, at=at, data={}),
        ]

    TimelineEvent.objects.bulk_create(events())
    by_orm = list(TimelineEvent.objects.filter(ticket=ticket).values_list("pk", flat=True))
    rows.append(events())
    by_rows = list(TimelineEvent.objects.filter(ticket=ticket).exclude(pk__in=by_orm)
                   .values_list("pk", flat=True))
    assert len(by_rows) == 3
    for orm_pk, rows_pk in zip(by_orm, by_rows, strict=True):
        assert stored(TimelineEvent, rows_pk) == stored(TimelineEvent, orm_pk)
    assert stored(TimelineEvent, by_rows[0])["at"] == at
