"""The index is written with every ticket write and can be rebuilt from the tickets."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from opsdesk.knowledge import index
from opsdesk.knowledge.models import SearchTerm
from opsdesk.tickets import services
from tests.knowledge.test_search import comment, file, found

pytestmark = pytest.mark.django_db


def indexed_ids():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {index.TABLE} ORDER BY rowid")
        return [row[0] for row in cursor.fetchall()]


def test_a_ticket_is_found_before_the_worker_dispatches_it(api, people, settings):
    settings.OPSDESK_DISPATCH = "worker"

    ticket = file(people, "单据状态不同步")

    ticket.refresh_from_db()
    assert not ticket.dispatched
    assert found(api["duty"], "单据状态") == [ticket.key]


def test_tickets_filed_together_are_indexed_together(api, people):
    spec = {"impact": "some_users", "urgency": "high", "source_kind": "alert",
            "channel": "alertmanager", "submitter_name": "Alertmanager"}
    filed = services.create_tickets(by=None, specs=[
        {**spec, "title": "[告警] 10.0.3.15 磁盘使用率超过 90%"},
        {**spec, "title": "[告警] 10.0.3.16 主从复制延迟超过 60 秒"},
    ])

    assert found(api["duty"], "10.0.3.16") == [filed[1].key]
    assert found(api["duty"], "磁盘") == [filed[0].key]


def test_reindex_rebuilds_the_index_from_the_tickets(api, people):
    ticket = file(people, "云枢告警不准")
    comment(ticket, people["duty"], "阈值配置错误")
    index.clear()
    assert found(api["duty"], "阈值") == []
    SearchTerm.objects.create(word="云枢")  # a term added since: the archive needs it
    with connection.cursor() as cursor:  # the document of a ticket that is gone
        cursor.execute(f"INSERT INTO {index.TABLE} (rowid, title, body, conversation, internal) "
                       "VALUES (999999, 'x', '', '', '')"
                       if connection.vendor == "sqlite" else
                       f"INSERT INTO {index.TABLE} (rowid, document) VALUES (999999, 'x')")
    out = io.StringIO()

    call_command("reindex", "--batch", "1", stdout=out)

    assert "Indexed 1 tickets." in out.getvalue()
    assert indexed_ids() == [ticket.pk]
    assert found(api["duty"], "阈值") == [ticket.key]
    assert found(api["duty"], "云枢") == [ticket.key]


def test_reindex_refuses_an_empty_batch():
    with pytest.raises(CommandError, match="--batch"):
        call_command("reindex", "--batch", "0")


def test_a_ticket_with_an_endless_comment_is_still_indexed(api, people):
    ticket = file(people, "日志刷屏")
    for part in range(4):  # more words than a document holds
        comment(ticket, people["duty"], " ".join(f"w{part}x{i}" for i in range(6_000)))

    assert found(api["duty"], "刷屏") == [ticket.key]
    assert found(api["duty"], "w0x1") == [ticket.key]
    assert found(api["duty"], "w3x5999") == []
