"""The ticket list: filters, keyset pages that never skip or repeat, and a constant query count."""

from __future__ import annotations

import pytest
from django.db import connection

from opsdesk.accounts.roles import Role
from opsdesk.tickets import services, workflow
from opsdesk.tickets.choices import OPEN_STATUSES, STILL_OPEN, Priority, Status
from opsdesk.tickets.models import Ticket
from tests.factories import ModuleFactory, TicketFactory, UserFactory, payment_module

pytestmark = pytest.mark.django_db


def keys(response):
    assert response.status_code == 200, response.json()
    return [item["key"] for item in response.json()["items"]]


def triage(ticket, *, by, assignee, **fields):
    return services.do_transition(
        ticket_id=ticket.pk, action="triage", by=by, version=ticket.version,
        fields={"assignee": assignee.username, **fields},
    )


@pytest.fixture
def desk(people):
    """A morning's tickets: different states, priorities, owners, modules and sources."""
    payment = payment_module(people["owner"])
    reports = ModuleFactory(code="reports", name="报表模块", owner=people["support"])
    login = TicketFactory(by=people["submitter"], title="用户无法登录系统",
                          description="登录页提示服务器错误")
    alert = TicketFactory(by=people["duty"], title="支付网关 CPU 持续过高", source_kind="alert",
                          channel="alertmanager", submitter_name="Alertmanager",
                          impact="all_users", urgency="immediate", alert_host="10.0.3.15",
                          description="10.0.3.15 CPU 使用率持续高于 90%")
    alert = triage(alert, by=people["duty"], assignee=people["owner"], module=payment.code)
    export = TicketFactory(by=people["other_submitter"], title="报表导出返回 502 错误",
                           description="导出超过一万行时出现", impact="few_users",
                           urgency="normal")
    export = triage(export, by=people["duty"], assignee=people["support"], module=reports.code)
    question = TicketFactory(by=people["submitter"], title="希望增加导出按钮",
                             description="列表页能否直接下载", impact="none", urgency="low")
    question = services.do_transition(ticket_id=question.pk, action="dismiss",
                                      by=people["duty"], version=1, fields={"reason": "需求"})
    return {"login": login, "alert": alert, "export": export, "question": question}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "new"}, ["login"]),
        ({"status": ["assigned", "closed"]}, ["question", "export", "alert"]),
        ({"priority": "urgent"}, ["alert"]),
        ({"priority": ["medium", "low"]}, ["question", "export"]),
        ({"assignee": "@owner"}, ["alert"]),
        ({"assignee": "none"}, ["question", "login"]),
        ({"module": "payment"}, ["alert"]),
        ({"module": "报表模块"}, ["export"]),
        ({"source": "alert"}, ["alert"]),
        ({"source": "user_report"}, ["question", "export", "login"]),
        ({"text": "服务器"}, ["login"]),
        ({"text": "一万"}, ["export"]),  # a word of the description
        ({"text": "导出"}, ["export", "question"]),  # best first: in title and description
        ({"text": "502"}, ["export"]),  # a number that is not a ticket's key
        ({"text": "cpu"}, ["alert"]),
        ({"status": "assigned", "assignee": "@support"}, ["export"]),
    ],
)
def test_filters(api, people, desk, params, expected):
    params = {name: people[value[1:]].username if str(value).startswith("@") else value
              for name, value in params.items()}

    listed = keys(api["duty"].get("/tickets", **params))

    assert listed == [desk[name].key for name in expected]


def test_a_key_finds_its_ticket_in_any_case(api, desk):
    key = desk["export"].key

    for text in (key, key.lower(), f"  {key} "):
        assert keys(api["duty"].get("/tickets", text=text)) == [key], text
    # A bare number finds the ticket with that number as well as text that contains it.
    assert key in keys(api["duty"].get("/tickets", text=str(desk["export"].pk)))


def test_a_module_is_found_by_id_too(api, desk):
    module = desk["alert"].module

    assert keys(api["duty"].get("/tickets", module=str(module.pk))) == [desk["alert"].key]


def walk(client, order, limit, during=None):
    """Every key, page after page, following next_cursor to the end."""
    seen, cursor, pages = [], None, 0
    while True:
        params = {"order": order, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/tickets", **params)
        assert response.status_code == 200, response.json()
        page = response.json()
        assert len(page["items"]) <= limit
        seen += [item["key"] for item in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if during is not None and pages == 1:
            during()
        if cursor is None:
            return seen, pages


@pytest.fixture
def many(people):
    ranks = [Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
    impacts = [("all_users", "immediate"), ("some_users", "high"), ("few_users", "normal"),
               ("none", "low")]
    tickets = []
    for n in range(23):
        impact, urgency = impacts[(n * 7) % 4]
        tickets.append(TicketFactory(by=people["submitter"], impact=impact, urgency=urgency))
    assert {t.priority for t in tickets} == set(ranks)
    return tickets


@pytest.mark.parametrize("order", ["-id", "id", "priority"])
@pytest.mark.parametrize("limit", [1, 4, 23, 50])
def test_keyset_pages_walk_every_ticket_once_in_order(api, many, order, limit):
    seen, pages = walk(api["duty"], order, limit)

    by_order = {
        "-id": lambda t: -t.pk,
        "id": lambda t: t.pk,
        "priority": lambda t: (t.priority, -t.pk),
    }[order]
    assert seen == [t.key for t in sorted(many, key=by_order)]
    assert len(set(seen)) == len(many)
    assert pages == -(-len(many) // limit)  # no empty last page


def test_tickets_filed_while_paging_do_not_shift_the_pages(api, people, many):
    def file_more():
        TicketFactory.create_batch(3, by=people["submitter"])

    seen, _pages = walk(api["duty"], "-id", 5, during=file_more)

    # Newer tickets sort before the cursor: the walk neither repeats nor misses the old ones.
    assert seen == [t.key for t in sorted(many, key=lambda t: -t.pk)]


def test_a_filtered_walk_stays_inside_the_filter(api, many):
    cursor, seen = None, []
    while True:
        params = {"priority": ["urgent", "high"], "order": "priority", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api["duty"].get("/tickets", **params).json()
        seen += [(item["priority"], item["key"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    expected = sorted((t for t in many if t.priority <= Priority.HIGH),
                      key=lambda t: (t.priority, -t.pk))
    assert seen == [(Priority(t.priority).code, t.key) for t in expected]


def test_the_list_costs_the_same_queries_for_any_page_size(
    api, people, django_assert_max_num_queries
):
    # Every ticket with its own submitter, assignee and module: an N+1 would show.
    for n in range(30):
        owner = UserFactory(roles=[Role.OWNER])
        module = ModuleFactory(owner=owner)
        ticket = TicketFactory(by=UserFactory(roles=[Role.SUBMITTER]))
        triage(ticket, by=people["duty"], assignee=owner if n % 2 else people["support"],
               module=module.code)
    client = api["duty"]
    assert client.get("/tickets", limit=1).status_code == 200  # token's first use recorded

    with django_assert_max_num_queries(4) as small:
        assert len(client.get("/tickets", limit=2).json()["items"]) == 2
    with django_assert_max_num_queries(4) as large:
        page = client.get("/tickets", limit=30).json()
    with django_assert_max_num_queries(4) as next_page:
        client.get("/tickets", limit=10, cursor=page["next_cursor"] or "")

    assert len(page["items"]) == 30
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(next_page.captured_queries) == len(large.captured_queries)
    assert Ticket.objects.count() == 30


def test_the_problem_type_filter(api, people, desk):
    data = triage(TicketFactory(by=people["submitter"], title="报表数据与财务不一致"),
                  by=people["duty"], assignee=people["support"], problem_type="data")
    assert keys(api["duty"].get("/tickets", problem_type="data")) == [data.key]
    assert keys(api["duty"].get("/tickets", problem_type="code")) == []


# The open queues: every open state at once, and a person's open tickets.

def test_the_open_queue_walks_the_open_tickets_newest_first(api, people, desk, many):
    open_states = [s.value for s in OPEN_STATUSES]
    seen, cursor = [], None
    while True:
        params = {"status": open_states, "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api["duty"].get("/tickets", **params).json()
        seen += [item["key"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break

    open_tickets = Ticket.objects.exclude(status__in=["closed", "archived"]).order_by("-id")
    assert seen == [t.key for t in open_tickets]
    assert desk["question"].key not in seen  # dismissed: closed
    mine = api["duty"].get("/tickets", status=open_states, assignee=people["owner"].username).json()
    assert [item["key"] for item in mine["items"]] == [desk["alert"].key]


def test_workflow_and_queues_agree_on_what_is_open():
    for status in Status:  # a ticket in every state
        Ticket.objects.filter(pk=TicketFactory().pk).update(status=status)

    assert set(OPEN_STATUSES) == set(workflow.OPEN_STATES)
    # The condition the open queues and their indexes state selects exactly those tickets.
    still_open = Ticket.objects.filter(STILL_OPEN).values_list("status", flat=True)
    assert set(still_open) == set(workflow.OPEN_STATES)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own query plan")
def test_an_open_queue_page_reads_the_open_index_without_sorting(people):
    from opsdesk.tickets.selectors import TicketFilters, _apply_filters

    open_states = list(OPEN_STATUSES)
    for filters in (TicketFilters(status=open_states),
                    TicketFilters(status=open_states, assignee=str(people["owner"].pk)),
                    TicketFilters(status=open_states[:3], priority=["urgent"])):
        page = _apply_filters(Ticket.objects.all(), filters, people["duty"]).order_by("-id")[:51]
        sql, params = page.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " / ".join(row[-1] for row in cursor.fetchall())
        assert "ticket_open" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own query plan")
def test_a_person_s_or_module_s_list_walks_an_index_newest_first_without_sorting(people):
    """Each filter's own index lists its tickets in id order (SQLite orders a one-column index
    by the row id): a composite index with the status between would sort all of a module's or
    an engineer's tickets for every page."""
    from opsdesk.tickets.selectors import TicketFilters, _apply_filters

    module = ModuleFactory(code="plan-probe", name="Plan probe", owner=people["owner"])
    for filters in (TicketFilters(module=module.code),
                    TicketFilters(assignee=str(people["owner"].pk)),
                    TicketFilters(submitter=str(people["submitter"].pk))):
        page = _apply_filters(Ticket.objects.all(), filters, people["duty"]).order_by("-id")[:51]
        sql, params = page.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " / ".join(row[-1] for row in cursor.fetchall())
        assert "TEMP B-TREE" not in plan, plan
