"""Every error under /api/ is JSON {code, message} in the caller's language, whoever produced
it: an unknown address, a wrong method, a body that is not JSON or is too large, a database
out of reach, an unexpected exception. Calls without valid credentials are 401 even on a POST."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.db import OperationalError
from django.test import Client

from opsdesk.tickets import selectors
from opsdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _client(api, role: str, language: str) -> Client:
    return Client(HTTP_AUTHORIZATION=api[role].client.defaults["HTTP_AUTHORIZATION"],
                  HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.parametrize(("language", "message"), [
    ("en", "There is nothing at this address."),
    ("zh-hans", "此地址没有内容。"),
])
def test_an_unknown_address_is_a_json_404_in_the_callers_language(api, language, message):
    response = _client(api, "duty", language).get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] == message


def test_a_method_an_address_does_not_take_is_a_json_405_that_says_which_it_takes(api):
    response = _client(api, "duty", "en").delete("/api/v1/tickets")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_a_body_that_is_not_json_is_refused_in_the_callers_language(api):
    response = _client(api, "submitter", "zh-hans").post(
        "/api/v1/tickets", "{title: 无法登录", content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")
    assert response.json()["message"] == "请求正文不是有效的 JSON。"
    assert not Ticket.objects.exists()


def test_a_body_over_the_limit_is_a_json_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"title": "x", "impact": "none", "urgency": "low",
                       "description": "长" * 2000})

    response = _client(api, "submitter", "en").post(
        "/api/v1/tickets", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert not Ticket.objects.exists()


def test_field_problems_are_named_in_the_callers_language(api):
    response = _client(api, "submitter", "zh-hans").post(
        "/api/v1/tickets", {"title": "x" * 201, "impact": "none"},
        content_type="application/json")

    assert response.status_code == 422
    problems = {p["field"]: p["problem"] for p in response.json()["details"]["errors"]}
    assert problems == {"payload.title": "最多 200 个字符。",
                        "payload.urgency": "此字段为必填项。"}


def test_a_database_out_of_reach_is_a_503_the_caller_retries(api, monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed")

    monkeypatch.setattr(selectors, "list_tickets", unreachable)

    response = _client(api, "duty", "en").get("/api/v1/tickets")

    assert (response.status_code, response.json()["code"]) == (503, "database_unavailable")
    assert int(response["Retry-After"]) > 0


def test_an_unexpected_failure_is_a_json_500_without_details(api, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(selectors, "list_tickets", broken)

    response = _client(api, "duty", "zh-hans").get("/api/v1/tickets")

    assert (response.status_code, response.json()["code"]) == (500, "server_error")
    assert "secret" not in response.content.decode()
    assert "secret internal detail" in caplog.text  # logged for the operator


# The live server commits for real; serialized_rollback puts back the data migrations' rows
# (and keeps content types as they were for the serialized tests after this one).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("token", [None, "ops_not-a-real-token"])
def test_a_post_without_valid_credentials_is_401_over_real_http(live_server, token):
    # Django's test client skips CSRF; a real request shows which check answers first.
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/tickets", method="POST", headers=headers,
        data=json.dumps({"title": "x", "impact": "none", "urgency": "low"}).encode())

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 401
    assert json.loads(refused.value.read())["code"] == "unauthenticated"
