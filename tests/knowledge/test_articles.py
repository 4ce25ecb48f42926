"""Knowledge articles through the API: written in one step from a closed ticket's resolution
report, edited and published by staff, linked to tickets, searched with the tickets' engine,
read by everyone once published (drafts by staff only), and counted when one solved a problem
without a ticket."""

import pytest

from opsdesk.knowledge.models import Article
from tests.knowledge.archive import reported, solved
from tests.knowledge.test_similar import PAID_BUT_UNPAID, TOLD_AGAIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixed(people, payment):
    return solved(people, **PAID_BUT_UNPAID)


def write_from(client, ticket):
    response = client.post("/articles", {"ticket": ticket.key})
    assert response.status_code == 201, response.json()
    return response.json()


def publish(client, article):
    response = client.post(f"/articles/{article['key']}/publish",
                           {"revision": article["revision"]})
    assert response.status_code == 200, response.json()
    return response.json()


def searched(client, text, **params):
    response = client.get("/articles", text=text, **params)
    assert response.status_code == 200, response.json()
    return [item["key"] for item in response.json()["items"]]


def test_the_article_round_trip(api, people, fixed):
    # The ticket's resolution report becomes a draft in one step.
    draft = write_from(api["owner"], fixed)
    assert draft["status"] == "draft" and draft["title"] == PAID_BUT_UNPAID["title"]
    assert draft["problem"] == (PAID_BUT_UNPAID["description"] + "\n\n"
                                + PAID_BUT_UNPAID["error_message"])
    assert (draft["cause"], draft["solution"], draft["prevention"]) == (
        PAID_BUT_UNPAID["cause"], PAID_BUT_UNPAID["solution"], PAID_BUT_UNPAID["prevention"])
    assert draft["module"] == "支付模块" and draft["problem_type"] == "environment"
    assert [(t["key"], t["source"]) for t in draft["tickets"]] == [(fixed.key, True)]
    # Submitters see no draft: not by key, not in a list, not in a search.
    assert api["submitter"].get(f"/articles/{draft['key']}").status_code == 404
    assert searched(api["submitter"], "待支付") == []
    assert api["submitter"].get("/articles").json()["total"] == 0

    # Edited by staff, then published.
    edited = api["support"].patch(f"/articles/{draft['key']}", {
        "revision": draft["revision"],
        "fields": {"title": "付款成功但订单仍显示待支付", "problem": "付款后订单状态不更新。"}})
    assert edited.status_code == 200, edited.json()
    edited = edited.json()
    assert edited["revision"] == draft["revision"] + 1
    assert edited["updated_by"]["username"] == people["support"].username
    published = publish(api["support"], edited)
    assert published["status"] == "published" and published["published_at"]

    # Everyone reads it and finds it with the same engine: words, not substrings.
    read = api["other_submitter"].get(f"/articles/{draft['key']}")
    assert read.status_code == 200 and read.json()["title"] == "付款成功但订单仍显示待支付"
    assert read.json()["tickets"] == []  # the ticket is not theirs
    assert searched(api["other_submitter"], "订单 待支付") == [draft["key"]]
    assert searched(api["other_submitter"], "线程池 回调") == [draft["key"]]

    # It solved someone's problem, counted once per person.
    first = api["other_submitter"].post(f"/articles/{draft['key']}/solved", {})
    again = api["other_submitter"].post(f"/articles/{draft['key']}/solved", {})
    other = api["submitter"].post(f"/articles/{draft['key']}/solved", {})
    assert first.json() == {"counted": True, "resolved_without_ticket": 1}
    assert again.json() == {"counted": False, "resolved_without_ticket": 1}
    assert other.json() == {"counted": True, "resolved_without_ticket": 2}
    assert api["duty"].get(f"/articles/{draft['key']}").json()["resolved_without_ticket"] == 2


def test_a_published_article_is_suggested_to_whoever_registers_the_problem(api, people, fixed):
    article = publish(api["owner"], write_from(api["owner"], fixed))

    found = api["other_submitter"].post("/tickets/similar", {**TOLD_AGAIN}).json()

    assert found["tickets"] == []  # the ticket is not theirs: the article is how it is shared
    assert [a["key"] for a in found["articles"]] == [article["key"]]
    assert found["articles"][0]["solution"] == PAID_BUT_UNPAID["solution"]


def test_a_draft_is_never_suggested(api, people, fixed):
    write_from(api["owner"], fixed)

    assert api["duty"].post("/tickets/similar", {**TOLD_AGAIN}).json()["articles"] == []


def test_an_article_search_ranks_a_title_match_first_and_marks_the_words(api, people, payment):
    body = {"problem": "报表一直转圈", "solution": "改为后台任务"}
    in_title = api["owner"].post("/articles", {**body, "title": "报表导出超时"}).json()
    in_cause = api["owner"].post("/articles", {**body, "title": "财务页面很慢",
                                               "cause": "<b>导出</b>在请求线程里同步执行，超时"})
    in_cause = in_cause.json()

    items = api["owner"].get("/articles", text="导出 超时").json()["items"]

    assert [item["key"] for item in items] == [in_title["key"], in_cause["key"]]
    assert items[0]["highlights"]["title"] == "报表<mark>导出超时</mark>"
    assert items[1]["highlights"]["cause"] == (
        "&lt;b&gt;<mark>导出</mark>&lt;/b&gt;在请求线程里同步执行，<mark>超时</mark>")


def test_tickets_and_articles_are_linked_both_ways(api, people, fixed):
    article = write_from(api["owner"], fixed)
    again = solved(people, **TOLD_AGAIN, cause="同上：回调线程池又被占满", solution="扩容")

    linked = api["owner"].post(f"/articles/{article['key']}/tickets", {"ticket": again.key})
    assert linked.status_code == 201, linked.json()
    assert [t["key"] for t in linked.json()["tickets"]] == [fixed.key, again.key]
    of_ticket = api["owner"].get("/articles", ticket=again.key).json()["items"]
    assert [a["key"] for a in of_ticket] == [article["key"]]
    event = api["owner"].timeline(again.key)[-1]
    assert event["kind"] == "linked" and event["data"]["article"]["key"] == article["key"]
    twice = api["owner"].post(f"/articles/{article['key']}/tickets", {"ticket": again.key})
    assert twice.status_code == 422 and twice.json()["details"]["field"] == "ticket"

    removed = api["owner"].client.delete(
        f"/api/v1/articles/{article['key']}/tickets/{again.key}")
    assert removed.status_code == 204
    assert api["owner"].get("/articles", ticket=again.key).json()["items"] == []
    assert api["owner"].timeline(again.key)[-1]["kind"] == "unlinked"


def test_an_article_comes_only_from_a_closed_ticket_with_a_report_and_only_once(api, people,
                                                                                fixed):
    still_open = reported(people, title="订单没更新")
    refused = api["owner"].post("/articles", {"ticket": still_open.key})
    assert refused.status_code == 409 and still_open.key in refused.json()["message"]
    write_from(api["owner"], fixed)
    twice = api["support"].post("/articles", {"ticket": fixed.key})
    assert twice.status_code == 409 and twice.json()["code"] == "article_exists"
    both = api["owner"].post("/articles", {"ticket": fixed.key, "title": "x"})
    assert both.status_code == 422
    assert Article.objects.count() == 1


def test_submitters_may_not_write_edit_or_publish(api, people, fixed):
    assert api["submitter"].post("/articles", {"ticket": fixed.key}).status_code == 403
    scratch = {"title": "x", "problem": "y", "solution": "z"}
    assert api["submitter"].post("/articles", scratch).status_code == 403
    article = publish(api["owner"], write_from(api["owner"], fixed))
    edit = api["submitter"].patch(f"/articles/{article['key']}",
                                  {"revision": article["revision"], "fields": {"title": "x"}})
    assert edit.status_code == 403
    withdraw = api["submitter"].post(f"/articles/{article['key']}/withdraw",
                                     {"revision": article["revision"]})
    assert withdraw.status_code == 403
    assert api["duty"].get(f"/articles/{article['key']}").json()["title"] == fixed.title


def test_a_developer_reads_their_own_drafts_only(api, people, payment):
    scratch = {"title": "接口限流配置", "problem": "突发流量打满", "solution": "网关限流"}
    theirs = api["developer"].post("/articles", scratch).json()
    others = api["owner"].post("/articles", scratch).json()

    assert api["developer"].get(f"/articles/{theirs['key']}").status_code == 200
    assert api["developer"].get(f"/articles/{others['key']}").status_code == 404
    assert searched(api["developer"], "限流") == [theirs["key"]]
    assert sorted(searched(api["duty"], "限流")) == sorted([theirs["key"], others["key"]])


def test_an_edit_made_from_an_old_revision_is_refused(api, people, fixed):
    article = write_from(api["owner"], fixed)
    api["support"].patch(f"/articles/{article['key']}",
                         {"revision": article["revision"], "fields": {"title": "新标题"}})

    late = api["owner"].patch(f"/articles/{article['key']}",
                              {"revision": article["revision"], "fields": {"title": "旧标题"}})

    assert late.status_code == 409 and late.json()["code"] == "stale_version"
    assert api["owner"].get(f"/articles/{article['key']}").json()["title"] == "新标题"


def test_bad_article_input_is_refused_and_nothing_is_kept(api, people, payment):
    empty = api["owner"].post("/articles", {"title": " ", "problem": "", "solution": ""})
    assert empty.status_code == 422
    assert empty.json()["details"]["missing"] == ["title", "problem", "solution"]
    unknown_module = api["owner"].post("/articles", {"title": "a", "problem": "b",
                                                     "solution": "c", "module": "nope"})
    assert unknown_module.status_code == 422
    assert unknown_module.json()["details"]["field"] == "module"
    too_long = api["owner"].post("/articles", {"title": "a", "problem": "长" * 20_001,
                                               "solution": "c"})
    assert too_long.status_code == 422
    assert Article.objects.count() == 0
    article = api["owner"].post("/articles", {"title": "a", "problem": "b", "solution": "c"})
    article = article.json()
    for fields in ({"colour": "red"}, {"solution": ""}, {"problem_type": "weather"},
                   {"title": 5}):
        response = api["owner"].patch(f"/articles/{article['key']}",
                                      {"revision": article["revision"], "fields": fields})
        assert response.status_code == 422, fields
    assert api["owner"].get(f"/articles/{article['key']}").json()["revision"] == 1
    assert api["owner"].get("/articles/KB-x").status_code == 404
    nowhere = api["owner"].post("/articles", {"ticket": "OPS-999999"})
    assert nowhere.status_code == 422 and nowhere.json()["details"]["field"] == "ticket"
    listed = api["owner"].get("/articles", ticket="OPS-999999")
    assert listed.status_code == 422 and listed.json()["details"]["field"] == "ticket"


def test_a_draft_cannot_be_marked_as_solving_a_problem(api, people, fixed):
    article = write_from(api["owner"], fixed)

    assert api["owner"].post(f"/articles/{article['key']}/solved", {}).status_code == 404
    assert Article.objects.get().resolved_without_ticket == 0


def test_a_withdrawn_article_is_a_draft_again(api, people, fixed):
    article = publish(api["owner"], write_from(api["owner"], fixed))

    withdrawn = api["owner"].post(f"/articles/{article['key']}/withdraw",
                                  {"revision": article["revision"]})

    assert withdrawn.json()["status"] == "draft"
    assert api["submitter"].get(f"/articles/{article['key']}").status_code == 404


def test_reindex_rebuilds_the_articles_too(api, people, payment):
    import io

    from django.core.management import call_command

    from opsdesk.knowledge import index

    article = api["owner"].post("/articles", {"title": "磁盘写满", "problem": "日志没有轮转",
                                              "solution": "配置 logrotate"}).json()
    index.clear(table=index.ARTICLES)
    assert searched(api["owner"], "磁盘") == []
    out = io.StringIO()

    call_command("reindex", stdout=out)

    assert "Indexed 1 articles." in out.getvalue()
    assert searched(api["owner"], "磁盘") == [article["key"]]
