"""opsdesk's own pages in a real browser: the API documentation from the bar and back, and
signing out."""

from __future__ import annotations

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_staff_open_the_api_documentation_and_come_back_then_sign_out(people,
                                                                       people_at_browsers):
    developer = people_at_browsers(people["developer"], "en")
    developer.goto("/tickets/")
    with developer.page.expect_navigation():
        developer.page.click("nav.nav a[href='/api/docs']")
    assert developer.page.url.endswith("/api/v1/docs")
    developer.page.wait_for_selector("#swagger-ui .opblock")  # Swagger drew the operations
    assert developer.page.inner_text(".api-bar .api-title") == "API documentation"
    developer.shot("api-docs")
    with developer.page.expect_navigation():
        developer.page.click("text=Back to the workspace")
    assert "/tickets/" in developer.page.url

    with developer.page.expect_navigation():
        developer.page.click("header.bar button:has-text('Sign out')")
    assert developer.page.url.endswith("/accounts/login/")
    assert "You have signed out." in developer.page.inner_text(".messages")
    developer.shot("signed-out")


def test_a_submitter_has_no_api_link_and_is_refused_the_page(people, people_at_browsers):
    submitter = people_at_browsers(people["submitter"])
    submitter.goto("/portal/")
    assert submitter.page.locator("a[href='/api/docs']").count() == 0
    answer = submitter.goto("/api/docs")
    assert answer.status == 403
    with translation.override("zh-hans"):
        refused = translation.gettext("This page is for another role.")
    assert refused in submitter.page.inner_text("main")
    submitter.shot("api-docs-refused")
