"""opsdesk's own pages where the framework used to answer: signing out, 400, 403, 404 and 500,
each in the reader's language with the way home; and the API's documentation, for the
department's staff only, with the way back to the workspace."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from opsdesk.accounts.services import create_api_token
from opsdesk.tickets import selectors
from tests.web.conftest import text

pytestmark = pytest.mark.django_db

DJANGO_LOGGED_OUT = ("感谢您今天与本网站共享一段美好时光", "Thanks for spending some quality time")


def said(language: str, message: str) -> str:
    """``message`` as the catalogue has it in ``language`` (scripts/check_messages.py holds
    the catalogue complete)."""
    with translation.override(language):
        return translation.gettext(message)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_signing_out_lands_on_the_sign_in_page_saying_so(people, browser_as, language):
    client = browser_as(people["owner"], language)

    answer = client.post("/accounts/logout/")

    assert answer.status_code == 302 and answer.url == "/accounts/login/"
    page = client.get(answer.url)
    assert said(language, "You have signed out.") in text(page)
    assert said(language, "Sign in") in text(page) and 'name="password"' in text(page)
    assert not any(words in text(page) for words in DJANGO_LOGGED_OUT)
    assert client.get("/tickets/").status_code == 302  # signed out indeed


def test_signing_out_keeps_the_language_the_person_chose_for_the_account(make_user):
    user = make_user("support", language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)

    page = client.post("/accounts/logout/", follow=True)

    assert "You have signed out." in text(page) and "Sign in" in text(page)


def test_opening_the_sign_out_address_asks_before_signing_out(people, browser_as):
    client = browser_as(people["submitter"])

    page = client.get("/accounts/logout/")

    assert page.status_code == 200
    assert f"<h1>{said('zh-hans', 'Sign out')}</h1>" in text(page)
    assert text(page).count('action="/accounts/logout/"') == 2  # the bar's and the page's
    assert client.get("/portal/").status_code == 200  # still signed in
    assert Client().get("/accounts/logout/").url == "/accounts/login/"


@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", "未找到"), ("en", "Not found")])
def test_an_unknown_page_is_opsdesks_404_with_the_way_home(people, browser_as, language,
                                                           words):
    signed_in = browser_as(people["submitter"], language).get("/no/such/page/")
    stranger = Client(HTTP_ACCEPT_LANGUAGE=language).get("/no/such/page/")

    for page in (signed_in, stranger):
        assert page.status_code == 404
        assert words in text(page) and 'href="/"' in text(page)
        assert f'lang="{language}"' in text(page)
    assert "孙丽" in text(signed_in)  # the site's own bar, with who is signed in


@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", "此页面属于其他角色。"), ("en", "This page is for another role.")])
def test_a_page_for_another_role_is_opsdesks_403_with_the_way_home(people, browser_as,
                                                                   language, words):
    page = browser_as(people["submitter"], language).get("/dashboards/")

    assert page.status_code == 403
    assert words in text(page) and 'href="/"' in text(page)


def test_a_broken_page_is_opsdesks_500_in_english_too(people, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "list_tickets", broken)
    browser = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(people["duty"])

    page = browser.get("/tickets/")

    assert page.status_code == 500
    assert "This is a fault on opsdesk's side, not yours." in text(page)
    assert "Server Error" not in text(page)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_request_django_refuses_to_read_is_opsdesks_400(db, settings, language):
    words = said(language, "The request could not be read")
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    client = Client(HTTP_ACCEPT_LANGUAGE=language)

    page = client.post("/accounts/login/link/", {f"f{n}": "x" for n in range(10)})

    assert page.status_code == 400
    assert words in text(page) and "Bad Request" not in text(page)


def test_the_api_link_is_shown_to_staff_only(people, browser_as):
    assert 'href="/api/docs"' in text(browser_as(people["support"]).get("/tickets/"))
    assert 'href="/api/docs"' not in text(browser_as(people["submitter"]).get("/portal/"))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_staff_read_the_api_documentation_under_opsdesks_bar(people, browser_as, language):
    client = browser_as(people["developer"], language)
    words = said(language, "Back to the workspace")

    page = client.get("/api/docs", follow=True)

    assert page.status_code == 200 and page.redirect_chain[-1][0] == "/api/v1/docs"
    assert words in text(page) and 'href="/tickets/"' in text(page)
    assert 'id="swagger-ui"' in text(page) and "/api/v1/openapi.json" in text(page)
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.json()["info"]["title"] == "opsdesk API"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_submitter_is_refused_the_api_documentation_by_opsdesks_403(people, browser_as,
                                                                      language):
    client = browser_as(people["submitter"], language)

    page = client.get("/api/v1/docs")

    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
    assert ("此页面属于其他角色。" if language == "zh-hans"
            else "This page is for another role.") in text(page)
    assert "swagger" not in text(page).lower()
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 403 and document.json()["code"] == "forbidden"


def test_a_stranger_is_sent_to_sign_in_for_the_documentation_and_refused_the_document(db):
    stranger = Client()

    page = stranger.get("/api/v1/docs")

    assert page.status_code == 302 and page.url == "/accounts/login/?next=/api/v1/docs"
    document = stranger.get("/api/v1/openapi.json")
    assert document.status_code == 401 and document.json()["code"] == "unauthenticated"


def test_the_document_is_read_with_a_staff_members_token_not_a_submitters(people):
    _token, staff = create_api_token(user=people["ops"], name="codegen")
    _token, submitter = create_api_token(user=people["submitter"], name="script")

    as_staff = Client(HTTP_AUTHORIZATION=f"Bearer {staff}").get("/api/v1/openapi.json")
    as_submitter = Client(HTTP_AUTHORIZATION=f"Bearer {submitter}").get(
        "/api/v1/openapi.json")
    forged = Client(HTTP_AUTHORIZATION="Bearer not-a-token").get("/api/v1/openapi.json")

    assert as_staff.status_code == 200 and "/api/v1/tickets" in as_staff.json()["paths"]
    assert as_submitter.status_code == 403
    assert forged.status_code == 401
