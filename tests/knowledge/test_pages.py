"""Search in the workspace and the portal, and the dictionary in the admin."""

import pytest

from opsdesk.knowledge.models import SearchTerm
from opsdesk.knowledge.words import query_words
from tests.conftest import Api
from tests.knowledge.test_search import comment, file, found
from tests.web.conftest import text

pytestmark = pytest.mark.django_db


def test_the_workspace_search_ranks_and_marks_what_matched(people, browser_as):
    in_title = file(people, "数据库死锁导致下单失败")
    in_comment = file(people, "下单偶尔很慢")
    comment(in_comment, people["duty"], "<b>怀疑</b>是数据库死锁")
    file(people, "打印格式错乱")

    page = text(browser_as(people["duty"]).get("/tickets/?queue=all&text=死锁"))

    assert page.index(in_title.key) < page.index(in_comment.key)
    assert "数据库<mark>死锁</mark>导致下单失败" in page
    assert "&lt;b&gt;怀疑&lt;/b&gt;是数据库<mark>死锁</mark>" in page
    assert "<b>怀疑" not in page and "打印格式错乱" not in page
    assert 'value="rank" selected' in page  # best match first while searching


def test_the_workspace_order_can_still_be_newest_first(people, browser_as):
    older = file(people, "数据库死锁导致下单失败")
    newer = file(people, "下单偶尔很慢")
    comment(newer, people["duty"], "是数据库死锁")

    page = text(browser_as(people["duty"]).get("/tickets/?queue=all&text=死锁&order=-id"))

    assert page.index(newer.key) < page.index(older.key)


def test_a_cleared_search_falls_back_to_the_queues_order(people, browser_as):
    ticket = file(people, "短信验证码收不到")

    page = text(browser_as(people["duty"]).get("/tickets/?queue=all&text=&order=rank"))

    assert ticket.key in page and 'value="rank"' not in page


def test_the_portal_searches_only_the_submitters_own_requests(people, browser_as):
    mine = file(people, "打印格式错乱")
    file(people, "打印格式错乱", by="other_submitter")
    file(people, "短信验证码收不到")

    page = text(browser_as(people["submitter"]).get("/portal/?text=打印"))

    assert mine.key in page and page.count("<mark>打印</mark>") == 1
    assert "短信验证码收不到" not in page
    nothing = text(browser_as(people["submitter"]).get("/portal/?text=宕机"))
    assert "没有与这些词匹配的请求" in nothing or "None of your requests matches" in nothing


def test_admins_add_dictionary_terms_and_resegment_the_archive(admin_client, people, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ticket = file(people, "云枢告警不准")

    response = admin_client.post("/admin/knowledge/searchterm/add/",
                                 {"word": "云枢", "note": "监控平台"})
    assert response.status_code == 302
    assert query_words("云枢") == ["云枢"]
    assert found(Api(people["duty"]), "云枢") == []  # filed before the term: not yet
    response = admin_client.post("/admin/knowledge/searchterm/", {
        "action": "resegment_archive", "_selected_action": [SearchTerm.objects.get().pk]})
    assert response.status_code == 302

    assert found(Api(people["duty"]), "云枢") == [ticket.key]


def test_a_term_without_chinese_words_is_refused(admin_client):
    response = admin_client.post("/admin/knowledge/searchterm/add/", {"word": "k8s"})

    assert response.status_code == 200
    assert not SearchTerm.objects.exists()
