"""Signing in with throttling, the language switch remembered per person, the time zone."""

import ipaddress
from datetime import timedelta

import time_machine
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.utils import timezone

from opsdesk.accounts.roles import Role
from tests.web.conftest import text

PASSWORD = "secret-password-1"
ATTACKER, OWNER_DESK = "203.0.113.66", "198.51.100.7"


def _sign_in(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _client(address="127.0.0.1", language="en"):
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)


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
        for _ in range(4):
            wrong = _sign_in(client, user.username, "wrong")
            assert wrong.status_code == 200
            assert "用户名或密码错误" in text(wrong)
        # The fifth failure fills the allowance: it is answered with the lock.
        assert _sign_in(client, user.username, "wrong").status_code == 429
        blocked = _sign_in(client, user.username)
        assert blocked.status_code == 429
        assert "登录失败次数过多" in text(blocked)
        assert "_auth_user_id" not in client.session
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _sign_in(client, user.username).status_code == 302


def test_the_lock_page_says_until_when_and_what_to_do(people):
    user = people["owner"]
    client = _client()
    with time_machine.travel(timezone.now().replace(hour=2, minute=0), tick=False):
        for _ in range(5):
            _sign_in(client, user.username, "wrong")
        page = text(_sign_in(client, user.username))
    assert "Too many failed sign-ins. Try again after 10:15." in page  # Asia/Shanghai
    assert "Email me a sign-in link" in page
    assert f"/accounts/login/link/?username={user.username}" in page
    assert "opsdesk unlock" in page


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


def test_guessing_from_one_address_does_not_lock_the_owner_out_elsewhere(people):
    user = people["head"]
    attacker = _client(ATTACKER)
    for _ in range(40):
        _sign_in(attacker, user.username, "guess")
    assert _sign_in(attacker, user.username).status_code == 429
    assert _sign_in(_client(OWNER_DESK), user.username).status_code == 302


def test_usernames_are_counted_whatever_their_case(people):
    user = people["owner"]
    attacker = _client(ATTACKER)
    name = user.username
    for variant in (name, name.upper(), f" {name}", f"{name} ", name.title()):
        _sign_in(attacker, variant, "guess")
    assert _sign_in(attacker, user.username).status_code == 429


def test_one_password_tried_on_many_accounts_locks_the_address(people, make_user):
    targets = [make_user(Role.SUBMITTER) for _ in range(10)]
    sprayer = _client(ATTACKER)
    for round_ in range(3):
        for target in targets:
            response = _sign_in(sprayer, target.username, f"Spring2026!{round_}")
    assert response.status_code == 429
    page = text(_sign_in(sprayer, people["owner"].username))  # a right password too
    assert "signing in from it is paused for every account" in page
    assert _sign_in(_client(OWNER_DESK), targets[0].username).status_code == 302


def test_every_password_check_is_throttled_not_only_the_sign_in_page(people):
    """The admin's sign-in, or any other code calling authenticate(), shares the count."""
    user = people["head"]
    user.is_staff = True
    user.save()
    for _ in range(5):
        _sign_in(_client(ATTACKER), user.username, "guess")
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=ATTACKER)
    assert authenticate(request, username=user.username, password=PASSWORD) is None
    elsewhere = RequestFactory().post("/admin/login/", REMOTE_ADDR=OWNER_DESK)
    assert authenticate(elsewhere, username=user.username, password=PASSWORD) == user


def test_the_admin_signs_in_on_the_same_page(people):
    anonymous = _client()
    response = anonymous.get("/admin/login/?next=/admin/tickets/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/tickets/"
    # Its own form is gone: a password posted there is never checked.
    assert anonymous.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 302
    submitter = _client()
    submitter.force_login(people["submitter"])
    assert submitter.get("/admin/", follow=True).status_code == 403


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(people):
    user = people["owner"]
    for n in range(5):
        forged = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.9.8.{n}")
        _sign_in(forged, user.username, "guess")
    innocent = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=OWNER_DESK)
    assert _sign_in(innocent, user.username).status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(people, settings):
    settings.OPSDESK_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    user = people["owner"]

    def via_proxy(client_chain: str) -> Client:
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_chain)

    for _ in range(5):  # the attacker also writes a first hop of its own, which is ignored
        _sign_in(via_proxy(f"{OWNER_DESK}, {ATTACKER}"), user.username, "guess")
    assert _sign_in(via_proxy(ATTACKER), user.username).status_code == 429
    assert _sign_in(via_proxy(OWNER_DESK), user.username).status_code == 302


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
