"""Similar problems: while a problem is registered (the API's draft, the portal) and while it
is analysed (the ticket), the closed and archived tickets most like it, with their cause and
solution; an earlier fix of the same problem first, and never a ticket the reader may not
read."""

import pytest

from opsdesk.knowledge import index, similar
from opsdesk.knowledge import selectors as search_selectors
from tests.knowledge.archive import reported, solved, users_module

pytestmark = pytest.mark.django_db

# The problem as it was first reported and fixed, a year ago.
PAID_BUT_UNPAID = {
    "title": "支付成功后订单一直显示待支付",
    "description": "多位用户反馈在收银台完成付款，银行卡已经扣款，但订单列表里仍是“待支付”，"
                   "刷新后也不变。",
    "error_message": "POST /api/pay/notify 504 Gateway Timeout",
    "cause": "支付网关的异步回调打到订单服务时超时：回调线程池只有 20 个线程，大促期间被占满，"
             "回调请求排队超时，订单状态没有更新。",
    "solution": "回调线程池扩到 200，回调处理改为先落库再异步更新订单；对当天 37 笔已扣款未更新的"
                "订单手工补单。",
    "prevention": "为回调队列长度和回调耗时加监控告警；回调接口做幂等并支持网关重试。",
}
# The same symptom, told by someone else in other words.
TOLD_AGAIN = {
    "title": "客户付了钱订单却没更新",
    "description": "顾客已经付款成功，银行卡也扣了钱，订单还停在未付款，好像回调没有过来",
}
# Other problems of the archive, several sharing words with it (订单, 支付, 回调, 更新, 超时).
OTHERS = [
    {"title": "支付回调验签失败", "description": "日志里大量回调验签失败，订单没有更新。",
     "error_message": "signature verify failed", "cause": "支付网关更换了证书，本地公钥未更新。",
     "solution": "更新网关公钥并重放失败的回调。"},
    {"title": "退款申请提交后一直显示处理中",
     "description": "客户在订单详情申请退款，三天了状态还是处理中，钱没有退回。",
     "cause": "退款批处理定时任务在节点迁移后没有重新部署，停止运行。",
     "solution": "重新部署退款定时任务并手动补跑。"},
    {"title": "订单支付页面加载很慢", "description": "打开订单支付页面要等十几秒，有时白屏。",
     "cause": "支付页引用的第三方统计脚本从境外 CDN 加载超时。",
     "solution": "统计脚本改为本地托管并异步加载。"},
    {"title": "对账报表导出失败", "description": "财务导出上月支付对账报表时提示超时。",
     "error_message": "ORA-01555: snapshot too old",
     "cause": "对账查询跑在长事务里，UNDO 空间不足。", "solution": "对账查询改为分批导出。"},
    {"title": "用户登录后看不到自己的订单",
     "description": "部分用户登录后订单列表为空，刷新也不变。",
     "cause": "订单服务按用户查询时走错了分库路由。", "solution": "修正分库路由规则并清理缓存。",
     "module": "users"},
    {"title": "短信验证码收不到", "description": "注册时收不到短信验证码，重发也没有。",
     "cause": "短信通道余额不足。", "solution": "充值并配置余额告警。", "module": "users"},
]


@pytest.fixture
def archive(people, payment):
    users_module(people)
    first_fix = solved(people, **PAID_BUT_UNPAID)
    for problem in OTHERS:
        solved(people, **problem)
    return first_fix


def suggested(client, **draft):
    response = client.post("/tickets/similar", draft)
    assert response.status_code == 200, response.json()
    return response.json()["tickets"]


def keys(items):
    return [item["key"] for item in items]


def test_a_recurring_problem_worded_differently_surfaces_its_earlier_fix_first(api, people,
                                                                              archive):
    found = suggested(api["duty"], **TOLD_AGAIN, module="payment")

    assert found[0]["key"] == archive.key
    assert found[0]["cause"] == PAID_BUT_UNPAID["cause"]
    assert found[0]["solution"] == PAID_BUT_UNPAID["solution"]
    assert found[0]["closed_at"] is not None and found[0]["module"] == "支付模块"
    assert len(found) <= 5
    assert [item["score"] for item in found] == sorted((i["score"] for i in found), reverse=True)


def test_the_ticket_being_analysed_shows_the_earlier_fix_first_and_not_itself(api, people,
                                                                             archive):
    again = reported(people, **TOLD_AGAIN, module="payment")

    response = api["owner"].get(f"/tickets/{again.key}/similar")

    assert response.status_code == 200, response.json()
    found = keys(response.json()["tickets"])
    assert found[0] == archive.key and again.key not in found


def test_without_a_module_the_words_alone_find_it(api, people, archive):
    assert keys(suggested(api["duty"], **TOLD_AGAIN))[0] == archive.key


def test_the_earlier_fix_is_found_in_a_large_archive(api, people, archive, monkeypatch):
    # The way of a large archive: the index walked newest first, and words found in more
    # than two tickets too common to ask for.
    monkeypatch.setattr(search_selectors, "NARROW", 1)
    monkeypatch.setattr(index, "COUNTED", 2)
    words = similar.query_for(similar.Problem(**TOLD_AGAIN), table=index.TICKETS)

    assert "订单" not in words.words and "付款" in words.words
    assert keys(suggested(api["duty"], **TOLD_AGAIN, module="payment"))[0] == archive.key


def test_the_same_module_comes_first_among_equal_matches(api, people, payment):
    users_module(people)
    same_words = {"title": "导出报表时页面卡住", "cause": "导出在请求线程里同步执行",
                  "solution": "改为后台任务导出"}
    in_payment = solved(people, **same_words, module="payment")
    in_users = solved(people, **same_words, module="users")

    draft = {"title": "报表导出卡住了", "description": "点导出以后页面一直转圈"}
    assert keys(suggested(api["duty"], **draft, module="users")) == [in_users.key,
                                                                     in_payment.key]
    assert keys(suggested(api["duty"], **draft, module="payment")) == [in_payment.key,
                                                                       in_users.key]


def test_archived_tickets_are_suggested_and_open_ones_are_not(api, people, payment):
    archived = solved(people, title="数据库连接池耗尽", cause="慢查询占住连接",
                      solution="加索引并调大连接池", archive=True)
    reported(people, title="数据库连接池耗尽了")  # still open: nothing to learn from yet

    found = suggested(api["duty"], title="连接池耗尽")

    assert keys(found) == [archived.key] and found[0]["status"] == "archived"


def test_a_submitter_is_shown_only_their_own_earlier_tickets(api, people, payment):
    problem = {"title": "打印报表时格式错乱", "cause": "打印模板的纸张设置被改成了 A3",
               "solution": "恢复 A4 模板"}
    mine = solved(people, **problem)
    theirs = solved(people, **problem, by="other_submitter")
    draft = {"title": "报表打印出来格式乱了"}

    assert keys(suggested(api["submitter"], **draft)) == [mine.key]
    assert keys(suggested(api["other_submitter"], **draft)) == [theirs.key]
    assert sorted(keys(suggested(api["duty"], **draft))) == sorted([mine.key, theirs.key])


def test_a_developer_is_shown_only_the_tickets_they_worked_on(api, people, payment):
    problem = {"title": "内存泄漏导致服务重启", "cause": "缓存没有上限", "solution": "加 LRU 上限"}
    worked_on = solved(people, **problem, collaborators=("developer",))
    solved(people, **problem)

    assert keys(suggested(api["developer"], title="服务内存泄漏")) == [worked_on.key]


def test_nobody_reads_the_similar_problems_of_a_ticket_they_may_not_read(api, people, archive):
    theirs = reported(people, by="other_submitter", **TOLD_AGAIN)

    response = api["submitter"].get(f"/tickets/{theirs.key}/similar")

    assert response.status_code == 404


def test_a_draft_without_words_has_no_similar_problems(api, people, archive):
    answer = api["duty"].post("/tickets/similar", {"title": "", "description": "！？ 的了"})

    assert answer.status_code == 200
    assert answer.json() == {"tickets": [], "articles": []}


def test_a_bad_draft_is_refused_naming_the_problem(api, people, archive):
    unknown = api["duty"].post("/tickets/similar", {"title": "订单没更新", "module": "nope"})
    assert unknown.status_code == 422 and unknown.json()["details"]["field"] == "module"
    missing = api["duty"].post("/tickets/similar", {"description": "订单没更新"})
    assert missing.status_code == 422 and "title" in missing.json()["message"]
    long = api["duty"].post("/tickets/similar", {"title": "长" * 201})
    assert long.status_code == 422 and "title" in long.json()["message"]
    extra = api["duty"].post("/tickets/similar", {"title": "订单", "priority": "high"})
    assert extra.status_code == 422


def test_similar_problems_take_a_bounded_number_of_queries(api, people, archive,
                                                           django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        assert suggested(api["duty"], **TOLD_AGAIN, module="payment")
