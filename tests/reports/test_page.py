"""The dashboard page: for staff only, linked from the menu for them, and the only page that
loads ECharts."""

from __future__ import annotations

from django.test import Client

ECHARTS = "vendor/echarts/echarts.common.min.js"


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_head_sees_the_charts_and_filters(people, payment):
    page = signed_in(people["head"]).get("/dashboards/", {"days": "7", "module": "payment"})
    assert page.status_code == 200
    html = page.content.decode()
    assert ECHARTS in html
    assert "reports/dashboard.js" in html
    for title in ("Open tickets by module and priority", "Inflow by source per day",
                  "Response time against target", "Resolution time against target",
                  "SLA compliance", "Backlog age"):
        assert title in html
    assert '<option value="7" selected>' in html
    assert '<option value="payment" selected>支付模块</option>' in html
    assert "Asia/Shanghai" in html


def test_page_speaks_chinese_by_default(people):
    client = Client()
    client.force_login(people["owner"])
    html = client.get("/dashboards/").content.decode()
    assert "每日受理量（按来源）" in html
    assert "最近 30 天" in html


def test_unknown_filters_fall_back_to_the_defaults(people):
    html = signed_in(people["head"]).get("/dashboards/", {"days": "365", "module": "x"})
    assert '<option value="30" selected>' in html.content.decode()


def test_submitter_is_refused_and_not_offered_the_link(people):
    client = signed_in(people["submitter"])
    assert client.get("/dashboards/").status_code == 403
    assert "/dashboards/" not in client.get("/", follow=True).content.decode()


def test_anonymous_is_sent_to_sign_in(db):
    response = Client().get("/dashboards/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_only_the_dashboard_loads_echarts(people):
    client = signed_in(people["duty"])
    home = client.get("/", follow=True).content.decode()
    assert 'href="/dashboards/"' in home
    assert ECHARTS not in home
    assert ECHARTS not in Client().get("/accounts/login/").content.decode()
