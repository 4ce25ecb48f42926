from django.test import Client

from opsdesk.tickets import services
from tests.factories import report


def _file(user, title="用户无法登录系统"):
    return services.create_ticket(by=user, **report(title=title, impact="all_users",
                                                    urgency="immediate"))


def test_sign_in_page_is_chinese_by_default_and_english_on_request(db):
    assert "登录" in Client().get("/accounts/login/").content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/").content.decode()
    assert "Sign in" in english


def test_home_requires_sign_in(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signed_in_submitter_sees_only_own_tickets_and_html_stays_text(people):
    _file(people["submitter"], title="<script>alert(1)</script>")
    _file(people["other_submitter"], title="别人的工单")
    client = Client()
    assert client.post("/accounts/login/", {"username": people["submitter"].username,
                                            "password": "secret-password-1"}).status_code == 302
    page = client.get("/", follow=True).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "别人的工单" not in page
