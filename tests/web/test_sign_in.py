"""Signing in with throttling, the language switch remembered per person, the time zone."""

from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from opsdesk.accounts.roles import Role
from tests.web.conftest import text

PASSWORD = "secret-password-1"


def _sign_in(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_right_password_signs_in_and_lands_on_the_role_page(people):
    client = Client()
    response = _sign_in(client, people["submitter"].username)
    assert response.status_code == 302
    assert client.get("/").url == "/portal/"


def test_five_wrong_passwords_lock_the_account_for_a_while_even_with_the_right_one(people):
    user = people["owner"]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            wrong = _sign_in(client, user.username, "wrong")
            assert wrong.status_code == 200
            assert "用户名或密码错误" in text(wrong)
        blocked = _sign_in(client, user.username)
        assert blocked.status_code == 200
        assert "登录失败次数过多" in text(blocked)
        assert "_auth_user_id" not in client.session
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _sign_in(client, user.username).status_code == 302


def test_a_success_clears_earlier_failures(people):
    user = people["owner"]
    client = Client()
    for _ in range(4):
        _sign_in(client, user.username, "wrong")
    assert _sign_in(client, user.username).status_code == 302
    client.logout()
    for _ in range(4):
        _sign_in(client, user.username, "wrong")
    assert _sign_in(client, user.username).status_code == 302


def test_the_sign_in_page_follows_the_browser_language(db):
    assert "登录" in text(Client().get("/accounts/login/"))
    assert "Sign in" in text(Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/"))


def test_switching_language_is_remembered_for_the_person(make_user, browser_as):
    user = make_user(Role.SUPPORT)
    client = browser_as(user)
    response = client.post("/language/", {"language": "en", "next": "/tickets/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    # Another browser, asking for Chinese, gets the person's English once signed in.
    other = browser_as(user, language="zh-hans")
    assert "My tickets" in text(other.get("/tickets/"))


def test_time_zone_is_chosen_per_person_and_checked(make_user, browser_as):
    user = make_user(Role.SUPPORT)
    client = browser_as(user)
    bad = client.post("/accounts/preferences/", {"language": "", "time_zone": "Mars/Olympus"})
    assert "未知时区" in text(bad)
    good = client.post("/accounts/preferences/",
                       {"language": "", "time_zone": "Europe/Berlin"})
    assert good.status_code == 302
    user.refresh_from_db()
    assert (user.time_zone, user.language) == ("Europe/Berlin", "")


def test_new_people_default_to_shanghai_time(make_user):
    assert make_user(Role.SUBMITTER).time_zone == "Asia/Shanghai"
