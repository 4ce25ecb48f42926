"""The dashboard in a real browser (the system Chromium, headless): every chart draws, and
hovering every chart shows its tooltip without breaking the Content-Security-Policy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import requests_in_turn

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
    """The page fetches its figures at once: the requests take turns."""
    return requests_in_turn(live_server, monkeypatch)


def violations_of_the_policy(page: Any) -> list[str]:
    """What the page's console says the Content-Security-Policy blocked, from now on."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return blocked


# What a chart draws that it did not before the mouse came: its tooltip (drawn as rich text on
# the canvas, each series' marker a rect of its colour) and the axis pointer's shadow.
WATCH = """name => {
    const chart = echarts.getInstanceByDom(document.querySelector('[data-chart="' + name + '"]'));
    window.tips = window.tips || {};
    window.tips[name] = {shown: 0, before: new Set(
        chart.getZr().storage.getDisplayList(true).map(el => el.id))};
    chart.on("showTip", () => { window.tips[name].shown += 1; });
}"""
TOOLTIP = """name => {
    const chart = echarts.getInstanceByDom(document.querySelector('[data-chart="' + name + '"]'));
    const drawn = chart.getZr().storage.getDisplayList(true).filter(
        el => !window.tips[name].before.has(el.id) && el.parent && el.parent.type === "text");
    return {
        shown: window.tips[name].shown,
        texts: drawn.filter(el => el.type === "tspan").map(el => el.style.text),
        markers: drawn.filter(el => el.type === "rect" && el.style.fill !== "#fff")
                      .map(el => el.style.fill),
    };
}"""


def hover_every_chart(page: Any, names: list[str]) -> None:
    """Move the mouse across each chart's plot until its tooltip shows (ECharts' showTip):
    drawn with a coloured marker per series and no 'undefined' for a missing figure."""
    for name in names:
        frame = page.locator(f'[data-chart="{name}"]')
        frame.scroll_into_view_if_needed()
        page.evaluate(WATCH, name)
        box = frame.bounding_box()
        for across in (0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
            page.mouse.move(box["x"] + box["width"] * across, box["y"] + box["height"] * 0.6,
                            steps=4)
        # The tooltip as the wait saw it: read again afterwards, a tooltip the chart had
        # hidden meanwhile (it kept showing and hiding under the moving mouse) read empty.
        tooltip = page.wait_for_function(
            f"name => {{ const tip = ({TOOLTIP})(name); "
            "return tip.markers.length > 0 && tip.texts.length > 0 ? tip : null; }",
            arg=name, timeout=5_000).json_value()
        frame.screenshot(path=_artifact(f"tooltip-{name}.png"))
        assert tooltip["shown"] > 0 and tooltip["texts"], (name, tooltip)
        assert not any("undefined" in text for text in tooltip["texts"]), (name, tooltip)
        page.mouse.move(0, 0)


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
        blocked = violations_of_the_policy(page)
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
        hover_every_chart(page, CHARTS)
        page.screenshot(path=_artifact("dashboard-hovered.png"), full_page=True)
        assert blocked == []
        page.select_option('select[name="days"]', "7")
        page.wait_for_url("**/dashboards/?days=7")
        browser.close()


REVIEW_CHARTS = ["reopen-rate", "satisfaction", "mtta", "mttr"]


def test_the_review_draws_and_its_downloads_follow_the_breakdown(serialised_server, history,
                                                                  people):
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(people["head"])
    cookie = {"name": settings.SESSION_COOKIE_NAME,
              "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
              "url": serialised_server.url}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(locale="zh-CN", accept_downloads=True)
        context.add_cookies([cookie])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        blocked = violations_of_the_policy(page)
        page.goto(f"{serialised_server.url}/dashboards/review/?months=12")
        for name in REVIEW_CHARTS:
            frame = page.locator(f'[data-chart="{name}"]')
            frame.and_(page.locator('[data-state="drawn"]')).wait_for(timeout=15_000)
            assert frame.locator("canvas").count() == 1
        assert "4" in page.locator('[data-note="reopen-rate"]').inner_text()
        page.select_option('select[data-by="mttr"]', "assignee")
        page.locator('[data-chart="mttr"][data-state="drawn"]').wait_for(timeout=15_000)
        people_shown = page.evaluate(
            "echarts.getInstanceByDom(document.querySelector('[data-chart=\"mttr\"]'))"
            ".getOption().xAxis[0].data")
        assert people_shown == ["王磊 (3)", "李娜 (1)"]
        link = page.locator('a[data-download="mttr"][data-format="xlsx"]')
        assert link.get_attribute("href") == (
            "/api/v1/reports/mttr?months=12&by=assignee&format=xlsx")
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename.startswith("opsdesk-mttr-")
        hover_every_chart(page, REVIEW_CHARTS)
        assert errors == [] and blocked == []
        page.screenshot(path=_artifact("review.png"), full_page=True)
        browser.close()


def _artifact(name: str) -> str:
    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)
