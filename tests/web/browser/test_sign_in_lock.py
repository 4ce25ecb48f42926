"""Locked out by password guessing, in a real browser: the lock page says until when and
offers the way in, a link by mail, which signs the person in once."""

from __future__ import annotations

import re

import pytest

from tests.web.browser.conftest import ARTIFACTS, PASSWORD, Person

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_a_locked_out_person_gets_in_by_a_mailed_link(people, chromium, one_request_at_a_time,
                                                      mailoutbox):
    user = people["submitter"]
    person = Person(chromium, one_request_at_a_time.url, user.username, "en",
                    ARTIFACTS / "sign_in_lock")
    page = person.page
    person.goto("/accounts/login/")
    for password in ["guess1", "guess2", "guess3", "guess4", "guess5", PASSWORD]:
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form.login button[type=submit]")
    assert "Too many failed sign-ins. Try again after" in page.inner_text("[role=alert]")
    person.shot("locked")

    with page.expect_navigation():
        page.click("text=Email me a sign-in link")
    assert page.input_value("input[name=login]") == user.username
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "a sign-in link is on its way" in page.inner_text("main")
    person.shot("link-sent")

    [message] = mailoutbox
    link = re.search(r"http://\S+/accounts/login/link/\S+/", message.body).group(0)
    person.goto(link.replace("http://127.0.0.1:8000", ""))
    person.shot("confirm")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url.endswith("/portal/")
    assert not person.errors, person.errors
    person.close()
