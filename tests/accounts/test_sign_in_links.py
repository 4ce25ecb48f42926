"""The way in that password guessing cannot block: a one-time sign-in link by mail, and
`opsdesk unlock` for accounts without a mail address."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from opsdesk.accounts.roles import Role

PASSWORD = "secret-password-1"
ADDRESS = "203.0.113.66"


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _client(language="en"):
    return Client(REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE=language)


def _lock_out(client, user):
    for _ in range(5):
        client.post("/accounts/login/", {"username": user.username, "password": "guess"})
    locked = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429


def _ask(client, login):
    return client.post("/accounts/login/link/", {"login": login})


def _link(message) -> str:
    return re.search(r"http://\S+/accounts/login/link/(\S+)/", message.body).group(0)


def _main(response) -> str:
    """The page's content, without what differs per browser (the CSRF token in the top bar)."""
    page = response.content.decode()
    return page[page.index("<main"):page.index("</main>")]


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def test_a_locked_out_person_signs_in_with_a_mailed_link_once(make_user, mailoutbox):
    user = make_user(Role.OWNER, language="zh-hans")
    client = _client()
    _lock_out(client, user)

    answer = _ask(client, user.username)

    assert "a sign-in link is on its way" in answer.content.decode()
    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert ADDRESS in message.body
    link = _path(_link(message))
    # Opening it (as a mail scanner would) only asks; confirming signs in.
    assert "Sign in as" in client.get(link).content.decode()
    assert "_auth_user_id" not in client.session
    assert client.post(link).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # Used: it never works again, in any browser.
    again = _client()
    assert again.post(link).status_code == 400
    assert "_auth_user_id" not in again.session


def test_the_answer_is_the_same_whether_or_not_the_account_exists(make_user, mailoutbox):
    user = make_user(Role.SUBMITTER)
    without_mail = make_user(Role.SUBMITTER, email="")
    answers = {login: _main(_ask(_client(), login))
               for login in (user.username, "nobody-here", without_mail.username)}
    assert len(set(answers.values())) == 1
    assert [m.to for m in mailoutbox] == [[user.email]]


def test_the_link_is_found_by_mail_address_too(make_user, mailoutbox):
    make_user(Role.SUBMITTER, email="Sun.Li@Example.com")
    _ask(_client(), "sun.li@example.com")
    assert [m.to for m in mailoutbox] == [["Sun.Li@Example.com"]]


def test_a_link_expires_after_fifteen_minutes(make_user, mailoutbox):
    user = make_user(Role.SUBMITTER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _ask(_client(), user.username)
    link = _path(_link(mailoutbox[0]))
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        expired = _client().post(link)
    assert expired.status_code == 400
    assert "expired or has already been used" in expired.content.decode()


def test_a_forged_or_altered_link_is_refused(make_user, mailoutbox):
    user = make_user(Role.SUBMITTER)
    _ask(_client(), user.username)
    link = _path(_link(mailoutbox[0]))
    assert _client().get(link[:-3] + "xx/").status_code == 400
    assert _client().post("/accounts/login/link/eyJ1c2VyIjoxfQ:1:abc/").status_code == 400


def test_a_new_password_voids_the_links_mailed_before(make_user, mailoutbox):
    user = make_user(Role.SUBMITTER)
    _ask(_client(), user.username)
    user.set_password("another-password-2")
    user.save()
    assert _client().post(_path(_link(mailoutbox[0]))).status_code == 400


def test_at_most_one_mail_per_account_every_two_minutes(make_user, mailoutbox):
    user = make_user(Role.SUBMITTER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            _ask(_client(), user.username)
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        _ask(_client(), user.username)
    assert len(mailoutbox) == 2


def test_the_mail_is_in_the_persons_language(make_user, mailoutbox):
    user = make_user(Role.SUBMITTER, language="en")
    _ask(_client(language="zh-hans"), user.username)
    assert mailoutbox[0].subject == "Your opsdesk sign-in link"


def test_unlock_lifts_the_lock_for_someone_without_mail(make_user):
    user = make_user(Role.DUTY, email="")
    client = _client()
    _lock_out(client, user)
    call_command("unlock", user.username)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_unlock_lifts_a_locked_address(make_user, capsys):
    people = [make_user(Role.SUBMITTER) for _ in range(6)]
    sprayer = _client()
    for person in people * 5:
        sprayer.post("/accounts/login/", {"username": person.username, "password": "guess"})
    call_command("unlock", "--address", ADDRESS)
    assert f"Unlocked {ADDRESS} (6 record(s)" in capsys.readouterr().out  # one per account
    response = sprayer.post("/accounts/login/",
                            {"username": people[0].username, "password": PASSWORD})
    assert response.status_code == 302


def test_unlock_refuses_what_it_cannot_find(db):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("unlock", "ghost")
    with pytest.raises(CommandError):
        call_command("unlock", "--address", "not-an-address")
    with pytest.raises(CommandError):
        call_command("unlock")
