"""The dashboard in a real browser (the system Chromium, headless): every chart draws."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs the system Chromium"),
    # Earlier live-server tests empty the tables; bring back the seeded SLA policies, routing
    # rules and priority matrix the desk's history depends on.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
CHARTS = ["open-tickets", "backlog-age", "inflow", "response-times", "resolution-times",
          "sla-compliance"]


@pytest.fixture
def serialised_server(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test database may be one in-memory SQLite connection shared by every server thread,
    and the page fetches its figures at once: let the requests take turns."""
    httpd = live_server.thread.httpd
    app, lock = httpd.application, threading.Lock()

    def one_at_a_time(environ: Any, start_response: Any) -> Any:
        with lock:
            return list(app(environ, start_response))

    monkeypatch.setattr(httpd, "application", one_at_a_time)
    return live_server


def test_every_chart_draws_from_the_api(serialised_server, desk, people):
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(people["head"])
    cookie = {"name": settings.SESSION_COOKIE_NAME,
              "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
              "url": serialised_server.url}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(locale="zh-CN")
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(f"{serialised_server.url}/dashboards/?days=90")
        for name in CHARTS:
            frame = page.locator(f'[data-chart="{name}"]')
            frame.and_(page.locator('[data-state="drawn"]')).wait_for(timeout=15_000)
            assert frame.locator("canvas").count() == 1
        modules = page.evaluate(
            "echarts.getInstanceByDom(document.querySelector('[data-chart=\"open-tickets\"]'))"
            ".getOption().yAxis[0].data")
        assert modules == ["尚未归属模块", "支付模块"]  # the busiest module on top
        assert "按时响应" in page.locator('[data-note="sla-compliance"]').inner_text()
        page.select_option('select[name="days"]', "7")
        page.wait_for_url("**/dashboards/?days=7")
        browser.close()
