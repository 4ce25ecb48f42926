"""Searching tickets through the API: words in Chinese and English over everything a ticket
holds, ranked, highlighted, and only among the tickets the reader may see."""

import pytest
from django.db import transaction

from opsdesk.knowledge import selectors as search_selectors
from opsdesk.tickets import services
from tests.factories import TicketFactory, ticket_in

pytestmark = pytest.mark.django_db
# Neutral text for the fields a report must have, so that only what a test says is found.
BLANK = {"description": "详见标题", "steps_to_reproduce": "无", "error_message": "无",
         "impact_scope": "一人"}


def file(people, title, by="submitter", **text):
    return TicketFactory(by=people[by], title=title, **{**BLANK, **text})


def found(client, text, **params):
    response = client.get("/tickets", text=text, **params)
    assert response.status_code == 200, response.json()
    return [item["key"] for item in response.json()["items"]]


def comment(ticket, by, body, internal=False):
    return services.add_comment(ticket_id=ticket.pk, by=by, body=body, internal=internal)


# The examples, verbatim.

def test_report_export_finds_a_report_stuck_while_exported(api, people):
    stuck = file(people, "导出月度报表时卡住")
    file(people, "月度考勤统计")

    assert found(api["duty"], "报表导出") == [stuck.key]


def test_message_queue_backlog_finds_messages_piling_up_in_the_queue(api, people):
    backlog = file(people, "订单通知延迟", description="队列里的消息大量积压，消费者跟不上")
    file(people, "消息推送失败")

    assert found(api["duty"], "消息队列积压") == [backlog.key]


def test_two_words_find_a_ticket_that_has_both_apart(api, people):
    both = file(people, "支付回调超时")
    comment(both, people["duty"], "已经联系银行，对方网关在升级")
    file(people, "网关证书过期")  # only one of the words

    assert found(api["duty"], "银行 超时") == [both.key]


def test_an_english_word_and_error_codes_find_their_tickets(api, people):
    gateway = file(people, "报表页面打不开", error_message="502 Bad Gateway from nginx")
    oracle = file(people, "夜间批处理失败", description="ORA-01555: snapshot too old")
    file(people, "报表导出 404")

    assert found(api["duty"], "nginx") == [gateway.key]
    assert found(api["duty"], "502") == [gateway.key]
    assert found(api["duty"], "ORA-01555") == [oracle.key]
    assert found(api["duty"], "ora-01555 SNAPSHOT") == [oracle.key]


def test_http_502_is_two_words(api, people):
    down = file(people, "官网无法访问", description="浏览器显示 HTTP 502，持续 5 分钟")
    file(people, "接口返回 HTTP 404")

    assert found(api["duty"], "HTTP 502") == [down.key]


def test_words_not_substrings(api, people):
    file(people, "报表导出乱码")

    assert found(api["duty"], "表导") == []  # 报表|导出: 表导 is no word of it
    assert found(api["duty"], "ORA") == []


def test_the_resolution_report_and_work_log_are_searched(api, people):
    ticket = ticket_in("in_progress", people=people, plan="service_restart")
    services.add_work_log_step(ticket_id=ticket.pk, by=people["owner"], duration_minutes=3,
                               command="kubectl rollout restart deploy/billing",
                               output="deployment.apps/billing restarted")
    api["owner"].act(ticket.key, "resolve", cause="连接池泄漏导致服务假死",
                     solution="升级驱动并重启", time_taken_minutes=30,
                     prevention="增加连接池监控告警")

    for text in ("kubectl billing", "连接池 假死", "驱动", "监控告警"):
        assert found(api["duty"], text) == [ticket.key], text


# Ranking and highlights.

def test_a_title_match_ranks_above_a_comment_match(api, people):
    in_comment = file(people, "系统偶尔很慢")
    comment(in_comment, people["duty"], "怀疑是数据库死锁")
    in_title = file(people, "数据库死锁导致下单失败")
    older_in_title = file(people, "数据库死锁")
    in_comment.refresh_from_db()

    keys = found(api["duty"], "死锁")

    assert keys[-1] == in_comment.key
    assert set(keys[:2]) == {in_title.key, older_in_title.key}


def test_matches_are_marked_and_user_text_stays_text(api, people):
    ticket = file(people, "登录页报错")
    comment(ticket, people["submitter"], "<script>x()</script>和报错")

    item = api["duty"].get("/tickets", text="报错").json()["items"][0]

    assert item["highlights"]["title"] == "登录页<mark>报错</mark>"
    snippet = item["highlights"]["comments"]
    assert "<script>" not in snippet
    assert snippet == "&lt;script&gt;x()&lt;/script&gt;和<mark>报错</mark>"


def test_a_list_without_text_has_no_highlights(api, people):
    file(people, "登录页报错")

    assert api["duty"].get("/tickets").json()["items"][0]["highlights"] is None


# Who may find what.

def test_a_submitter_never_finds_another_submitters_ticket(api, people):
    mine = file(people, "打印格式错乱")
    file(people, "打印格式错乱", by="other_submitter")

    assert found(api["submitter"], "打印格式") == [mine.key]


def test_an_internal_note_makes_no_match_for_the_submitter(api, people):
    ticket = file(people, "报表数据缺失")
    comment(ticket, people["duty"], "疑似机房断电", internal=True)

    assert found(api["submitter"], "机房断电") == []
    assert found(api["duty"], "机房断电") == [ticket.key]
    item = api["submitter"].get("/tickets", text="报表").json()["items"][0]
    assert "comments" not in item["highlights"]


def test_a_developer_finds_only_the_tickets_they_work_on(api, people):
    theirs = ticket_in("in_progress", people=people, collaborators=("developer",),
                       plan="service_restart", title="内存泄漏排查", **BLANK)
    file(people, "内存泄漏告警")

    assert found(api["developer"], "内存泄漏") == [theirs.key]


def test_filters_apply_to_a_search(api, people):
    open_one = file(people, "短信验证码收不到")
    closed = file(people, "短信验证码延迟")
    services.do_transition(ticket_id=closed.pk, action="dismiss", by=people["duty"],
                           version=closed.version, fields={"reason": "重复"})

    assert found(api["duty"], "验证码", status="new") == [open_one.key]
    assert found(api["duty"], "验证码", status="closed") == [closed.key]
    count = api["duty"].get("/tickets", text="验证码", order="-id").json()["items"]
    assert [item["key"] for item in count] == [closed.key, open_one.key]


# Paging.

def test_pages_of_a_search_follow_the_ranking_without_repeats(api, people):
    tickets = [file(people, "审批流程卡住" + "，卡住" * (i % 3)) for i in range(7)]

    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api["duty"].get("/tickets", text="审批流程", **params).json()
        seen += [item["key"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(t.key for t in tickets)
    assert seen == found(api["duty"], "审批流程", limit=50)


def test_rank_needs_a_text_and_a_cursor_must_be_one(api, people):
    file(people, "审批流程卡住")

    assert api["duty"].get("/tickets", order="rank").status_code == 422
    response = api["duty"].get("/tickets", text="审批", cursor="bm90LWEtY3Vyc29y")
    assert response.status_code == 422


def test_a_key_comes_first(api, people):
    mentioned = file(people, "同 OPS-1 的问题又出现了")
    first = TicketFactory._meta.model.objects.order_by("pk").first()

    keys = found(api["duty"], first.key)

    assert keys[0] == first.key and mentioned.key in keys


# The index follows every write, in its transaction.

def test_an_edit_of_the_title_is_found_at_once(api, people):
    ticket = file(people, "页面显示错位")
    response = api["duty"].patch(f"/tickets/{ticket.key}",
                                 {"version": ticket.version, "fields": {"title": "移动端白屏"}})
    assert response.status_code == 200, response.json()

    assert found(api["duty"], "白屏") == [ticket.key]
    assert found(api["duty"], "错位") == []


def test_a_write_rolled_back_leaves_the_index_as_it_was(api, people):
    ticket = file(people, "上传附件失败")

    with pytest.raises(RuntimeError), transaction.atomic():
        comment(ticket, people["duty"], "对象存储磁盘已满")
        raise RuntimeError("the request failed after the comment")

    assert found(api["duty"], "对象存储") == []
    comment(ticket, people["duty"], "对象存储磁盘已满")
    assert found(api["duty"], "对象存储") == [ticket.key]


# The two ways to find matches (knowledge/selectors.py) agree.

@pytest.fixture
def walk_the_index(monkeypatch):
    """Searches take the way of a large archive: the index walked newest first (unfiltered:
    the newest ticket, then the older ones)."""
    monkeypatch.setattr(search_selectors, "NARROW", 1)
    monkeypatch.setattr(search_selectors, "RECENT", 1)


def test_a_large_archive_is_searched_the_same_way(api, people, walk_the_index):
    in_comment = file(people, "系统偶尔很慢")
    comment(in_comment, people["duty"], "怀疑是数据库死锁", internal=True)
    in_title = file(people, "数据库死锁导致下单失败")
    theirs = file(people, "数据库死锁", by="other_submitter")

    assert found(api["duty"], "死锁") == [theirs.key, in_title.key, in_comment.key]
    assert found(api["submitter"], "死锁") == [in_title.key]
    assert found(api["duty"], "死锁", status="new", source="user_report") == [
        theirs.key, in_title.key, in_comment.key]


def test_a_word_in_very_many_tickets_is_ranked_among_its_newest(api, people, monkeypatch,
                                                                 walk_the_index):
    monkeypatch.setattr(search_selectors, "NEWEST", 2)
    best_but_oldest = file(people, "死锁 死锁 死锁", description="死锁")
    newer = [file(people, f"下单失败 第 {n} 次", description="数据库死锁") for n in range(2)]

    keys = found(api["duty"], "死锁")

    assert best_but_oldest.key not in keys
    assert sorted(keys) == sorted(t.key for t in newer)
    assert best_but_oldest.key in found(api["duty"], "死锁", order="-id")  # unranked: all


def test_a_filtered_search_ranks_among_its_newest_matches(api, people, monkeypatch,
                                                          walk_the_index):
    monkeypatch.setattr(search_selectors, "NEWEST_FILTERED", 2)
    best_but_oldest = file(people, "死锁 死锁 死锁", description="死锁")
    newer = [file(people, f"下单失败 第 {n} 次", description="数据库死锁") for n in range(2)]

    keys = found(api["submitter"], "死锁")

    assert sorted(keys) == sorted(t.key for t in newer)
    assert best_but_oldest.key in found(api["submitter"], "死锁", order="-id")


def test_windows_reach_a_match_far_behind_the_newest_tickets(api, people, monkeypatch,
                                                             walk_the_index):
    oldest = file(people, "证书过期导致握手失败")
    for n in range(6):
        file(people, f"页面加载慢 第 {n} 次")

    assert found(api["duty"], "证书过期") == [oldest.key]
