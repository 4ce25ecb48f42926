"""The agent workspace: queues and their counts, filters, keyset pages, saved views, and the
refresh that brings new tickets in without a reload."""

import gc
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.notify.models import Team
from opsdesk.tickets import services
from opsdesk.tickets.models import Ticket
from opsdesk.web.models import SavedView
from tests.factories import TicketFactory, payment_module, ticket_in
from tests.web.conftest import text


def _triage(ticket, people, assignee="owner", **fields):
    return services.do_transition(
        ticket_id=ticket.pk, action="triage", by=people["duty"], version=ticket.version,
        fields={"assignee": people[assignee].username, "priority": "high", **fields})


@pytest.fixture
def desk(people):
    payment_module(people["owner"])
    new = TicketFactory(by=people["submitter"], title="用户无法登录系统")
    mine = _triage(TicketFactory(by=people["submitter"], title="支付回调超时"), people,
                   problem_type="code", module="payment")
    theirs = _triage(TicketFactory(by=people["other_submitter"], title="报表导出乱码"), people,
                     assignee="support")
    approval = ticket_in("awaiting_approval", people=people, title="数据库扩容")
    return {"new": new, "mine": mine, "theirs": theirs, "approval": approval}


def _count(page, queue):
    marker = f'class="q-{queue}">'
    start = page.index(marker)
    return int(page[start:].split('class="count')[1].split(">")[1].split("<")[0])


def test_queues_show_counts_and_their_tickets(people, desk, browser_as):
    client = browser_as(people["owner"])
    page = text(client.get("/tickets/?queue=mine"))
    assert _count(page, "mine") == 2  # the assigned one and the one in approval
    assert _count(page, "unassigned") == 1
    assert _count(page, "approval") == 1
    assert "支付回调超时" in page and "报表导出乱码" not in page
    unassigned = text(client.get("/tickets/?queue=unassigned"))
    assert "用户无法登录系统" in unassigned and "支付回调超时" not in unassigned
    assert "数据库扩容" in text(client.get("/tickets/?queue=approval"))



def _badge(page, queue):
    marker = f'class="q-{queue}">'
    start = page.index(marker)
    return page[start:].split('class="count')[1].split(">")[1].split("<")[0]


def test_a_badge_counts_up_to_its_limit_and_then_says_more(people, desk, browser_as,
                                                          monkeypatch):
    from opsdesk.web.views import workspace

    monkeypatch.setattr(workspace, "BADGE_MAX", 2)
    TicketFactory.create_batch(2, by=people["submitter"])  # three new tickets in all
    page = text(browser_as(people["owner"]).get("/tickets/?queue=mine"))

    assert _badge(page, "unassigned") == "2+"
    assert _badge(page, "mine") == "2"  # exactly the limit: still a count
    assert _badge(page, "approval") == "1"
    assert 'class="count alarm"' not in page  # nothing breached

def test_the_team_queue_holds_the_teammates_tickets(people, desk, browser_as):
    team = Team.objects.create(name="二线支持")
    team.members.add(people["owner"], people["support"])
    page = text(browser_as(people["owner"]).get("/tickets/?queue=team"))
    assert "报表导出乱码" in page and "支付回调超时" in page
    assert "用户无法登录系统" not in page


def test_filters_narrow_the_queue(people, desk, browser_as):
    client = browser_as(people["duty"])
    by_type = text(client.get("/tickets/?queue=all&type=code"))
    assert "支付回调超时" in by_type and "报表导出乱码" not in by_type
    by_text = text(client.get("/tickets/?queue=all&text=乱码"))
    assert "报表导出<mark>乱码</mark>" in by_text and "支付回调超时" not in by_text
    by_key = text(client.get(f"/tickets/?queue=all&text={desk['new'].key}"))
    assert "用户无法登录系统" in by_key
    by_assignee = text(client.get(f"/tickets/?queue=all&assignee={people['support'].username}"))
    assert "报表导出乱码" in by_assignee and "支付回调超时" not in by_assignee
    none = text(client.get("/tickets/?queue=unassigned&status=closed"))
    assert "这里没有工单" in none


def test_a_bad_filter_says_so_instead_of_failing(people, desk, browser_as):
    response = browser_as(people["duty"]).get("/tickets/?queue=all&cursor=garbage")
    assert response.status_code == 200
    assert "cursor" in text(response)


def test_pages_follow_keyset_cursors_without_repeats(people, browser_as):
    created = {TicketFactory(by=people["submitter"], title=f"批量工单 {n}").key
               for n in range(60)}
    client = browser_as(people["duty"])
    first = text(client.get("/tickets/?queue=all"))
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = text(client.get("/tickets/" + next_url.replace("&amp;", "&")))
    seen_first = {k for k in created if f">{k}<" in first}
    seen_second = {k for k in created if f">{k}<" in second}
    assert len(seen_first) == 50 and len(seen_second) == 10
    assert not seen_first & seen_second


def test_the_refresh_brings_new_tickets_and_fresh_counts(people, desk, browser_as):
    client = browser_as(people["duty"])
    page = text(client.get("/tickets/?queue=unassigned"))
    poll = page.split('id="queue-results"')[1].split('hx-get="')[1].split('"')[0].replace(
        "&amp;", "&")
    TicketFactory(by=people["submitter"], title="刚刚提交的问题")
    fragment = text(client.get("/tickets/" + poll, HTTP_HX_REQUEST="true"))
    assert "刚刚提交的问题" in fragment
    assert 'class="p2 fresh"' in fragment or "fresh" in fragment
    assert 'hx-swap-oob="true"' in fragment and "<html" not in fragment
    assert _count(fragment, "unassigned") == 2


def test_saved_views_are_personal(people, desk, browser_as):
    client = browser_as(people["duty"])
    response = client.post("/tickets/views/", {"name": "代码问题",
                                               "query": "queue=all&type=code&cursor=abc"})
    assert response.status_code == 302
    view = SavedView.objects.get(owner=people["duty"])
    assert view.query == "queue=all&type=code"
    page = text(client.get("/tickets/"))
    assert "代码问题" in page and "?queue=all&amp;type=code" in page
    assert "代码问题" not in text(browser_as(people["owner"]).get("/tickets/"))
    browser_as(people["owner"]).post(f"/tickets/views/{view.pk}/delete")
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.post(f"/tickets/views/{view.pk}/delete")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_view_needs_a_name(people, browser_as):
    response = browser_as(people["duty"]).post("/tickets/views/", {"name": " ", "query": ""},
                                               follow=True)
    assert "请给视图起个名字" in text(response)
    assert not SavedView.objects.exists()


def test_the_queue_page_costs_the_same_queries_for_more_tickets(people, desk, browser_as):
    client = browser_as(people["duty"])
    client.get("/tickets/?queue=all")
    with CaptureQueriesContext(connection) as few:
        client.get("/tickets/?queue=all")
    for n in range(10):
        _triage(TicketFactory(by=people["submitter"], title=f"更多 {n}"), people,
                module="payment")
    with CaptureQueriesContext(connection) as many:
        client.get("/tickets/?queue=all")
    assert len(many) == len(few)


def _tickets_alive() -> int:
    return sum(type(o) is Ticket for o in gc.get_objects())


@pytest.mark.parametrize("path", ["/tickets/?queue=all", "/api/v1/tickets?limit=50"])
def test_a_queue_frees_its_tickets_once_it_has_answered(people, desk, browser_as, path):
    """Not left to the cycle collector: held in a reference cycle (a template's context, a
    ticket and its clock), each page's tickets waited for collections that took milliseconds,
    the slowest pages of a queue."""
    client = browser_as(people["duty"])
    client.get(path)
    gc.collect()
    gc.disable()
    try:
        before = _tickets_alive()
        answer = client.get(path)
        assert answer.status_code == 200 and "支付回调超时" in answer.content.decode()
        del answer
        assert _tickets_alive() == before
    finally:
        gc.enable()


def test_another_queue_costs_no_more_queries(people, desk, browser_as):
    """The badges are counted together: on PostgreSQL each statement is a round trip."""
    client = browser_as(people["owner"])
    client.get("/tickets/?queue=mine")
    with CaptureQueriesContext(connection) as before:
        client.get("/tickets/?queue=mine")
    Team.objects.create(name="二线支持").members.add(people["owner"], people["support"])
    with CaptureQueriesContext(connection) as with_team:
        page = text(client.get("/tickets/?queue=mine"))
    assert _badge(page, "team") == "3"  # the owner's two and the support engineer's one
    assert len(with_team) == len(before)


def test_developers_see_only_what_they_were_pulled_into(people, desk, browser_as):
    services.set_collaborators(ticket_id=desk["mine"].pk, by=people["duty"],
                               add=[people["developer"].username])
    page = text(browser_as(people["developer"]).get("/tickets/?queue=mine"))
    assert "支付回调超时" in page and "报表导出乱码" not in page


def test_overdue_tickets_fill_the_breached_queue_in_red(people, desk, browser_as):
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        client = browser_as(people["duty"])
        page = text(client.get("/tickets/?queue=breached"))
        assert desk["mine"].key in page and 'class="sla sla-breached"' in page
        assert "超时" in page
        assert _count(page, "breached") >= 1
        second = text(client.get("/tickets/?queue=breached&order=due"))
        assert desk["mine"].key in second


def test_the_portal_costs_the_same_queries_for_more_tickets(people, browser_as):
    client = browser_as(people["submitter"])
    TicketFactory(by=people["submitter"])
    client.get("/portal/")
    with CaptureQueriesContext(connection) as few:
        client.get("/portal/")
    for n in range(5):
        ticket_in("waiting", people=people, title=f"问题 {n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/portal/")
    assert len(many) == len(few)


def test_a_queue_empty_when_opened_marks_its_first_tickets_new(people, browser_as):
    client = browser_as(people["duty"])
    page = text(client.get("/tickets/?queue=unassigned"))
    poll = page.split('id="queue-results"')[1].split('hx-get="')[1].split('"')[0].replace(
        "&amp;", "&")
    assert "seen=0" in poll
    TicketFactory(by=people["submitter"], title="空队列后的第一张工单")

    fragment = text(client.get("/tickets/" + poll, HTTP_HX_REQUEST="true"))

    row = fragment.split("空队列后的第一张工单")[0].rsplit("<tr", 1)[1]
    assert "fresh" in row
