"""Playwright driving the system Chromium against pytest-django's live server.

Without /usr/bin/chromium these tests skip, except under CI=true, where that is a failure
(`make test` installs it through scripts/ensure_test_tools.sh). Screenshots of every page
visited go to test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import requests_in_turn

CHROMIUM = Path(os.environ.get("OPSDESK_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "browser"
PASSWORD = "secret-password-1"  # tests.factories.UserFactory's


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The browser, for one test: Playwright's sync API runs an event loop in this thread while
    it is open, and code that checks for a running loop (async_to_sync) must not find it in the
    tests after."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: sudo apt-get install chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


class Person:
    """One person at their own browser (a separate context: own cookies, own language)."""

    def __init__(self, browser: Any, base_url: str, username: str, language: str,
                 shots: Path) -> None:
        self.context = browser.new_context(
            locale=language, viewport={"width": 1360, "height": 900},
            extra_http_headers={"Accept-Language": language},
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.username = username
        self.shots = shots
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # A blocked script, style or request (the Content Security Policy) is a console error.
        self.page.on("console", lambda message: self.errors.append(message.text)
                     if message.type == "error" and "Content Security Policy" in message.text
                     else None)

    def sign_in(self) -> None:
        self.page.goto(self.base_url + "/accounts/login/")
        self.page.fill("input[name=username]", self.username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_load_state()

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def shot(self, name: str) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def act(self, action: str, **fields: str | bool) -> None:
        """Open an action of the ticket page, fill its fields and submit it."""
        details = self.page.locator(f"details[data-action={action}]")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        for name, value in fields.items():
            field = details.locator(f"[name={name}]")
            tag = field.evaluate("e => e.tagName + (e.type ? ':' + e.type : '')")
            if tag.startswith("SELECT"):
                field.select_option(str(value))
            elif tag == "INPUT:checkbox":
                field.set_checked(bool(value))
            else:
                field.fill(str(value))
        with self.page.expect_navigation():
            details.locator("button[type=submit]").click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def one_request_at_a_time(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A page polls while another person acts: the requests take turns."""
    return requests_in_turn(live_server, monkeypatch)


@pytest.fixture
def people_at_browsers(chromium: Any, one_request_at_a_time: Any,
                       request: Any) -> Iterator[Any]:
    """``open(user, language)``: a signed-in Person; all closed at the end of the test."""
    live_server = one_request_at_a_time
    shots = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    opened: list[Person] = []

    def open_browser(user: Any, language: str = "zh-CN") -> Person:
        person = Person(chromium, live_server.url, user.username, language, shots)
        person.sign_in()
        opened.append(person)
        return person

    yield open_browser
    for person in opened:
        assert not person.errors, person.errors  # no script error or CSP violation anywhere
        person.close()
