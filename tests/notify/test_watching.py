"""Following a ticket: anyone who can see it may watch it (API and the ticket page) and hears
the topics they chose, once per change, never about their own acts or what they may not see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.notify.models import Watch
from tests.conftest import Api
from tests.factories import PLANS, report
from tests.notify.talk import Step, kinds, only

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def key(cast: dict[str, User], step: Step) -> str:
    created = step(Api(cast["submitter"]).post, "/tickets",
                   report(title="报表导出乱码", impact="few_users", urgency="normal"))
    ticket_key = str(created.json()["key"])
    step(Api(cast["duty"]).act, ticket_key, "triage", assignee=cast["owner"].username)
    mail.outbox.clear()
    return ticket_key


@pytest.fixture
def watcher(make_user: Callable[..., User]) -> User:
    """A support engineer, who sees every ticket."""
    return make_user(Role.SUPPORT, display_name="Eve Support", language="en",
                     email="eve@corp.example")


def test_watching_through_the_api(key: str, watcher: User) -> None:
    api = Api(watcher)
    assert api.get(f"/tickets/{key}/watch").json() == {
        "ticket": key, "watching": False, "topics": []}
    answer = api.post(f"/tickets/{key}/watch", {})
    assert answer.status_code == 200
    assert answer.json()["topics"] == ["comments", "decisions", "status"]
    chosen = api.post(f"/tickets/{key}/watch", {"topics": ["links", "comments"]})
    assert chosen.json() == {"ticket": key, "watching": True, "topics": ["comments", "links"]}
    assert Watch.objects.get().topics == ["comments", "links"]
    assert api.client.delete(f"/api/v1/tickets/{key}/watch").status_code == 204
    assert not Watch.objects.exists()


def test_bad_topics_are_refused_and_nothing_is_kept(key: str, watcher: User) -> None:
    api = Api(watcher)
    unknown = api.post(f"/tickets/{key}/watch", {"topics": ["gossip"]})
    assert unknown.status_code == 422
    empty = api.post(f"/tickets/{key}/watch", {"topics": []})
    assert empty.status_code == 422
    assert empty.json()["details"]["field"] == "topics"
    assert not Watch.objects.exists()


def test_a_ticket_one_cannot_see_cannot_be_watched(
    key: str, make_user: Callable[..., User],
) -> None:
    stranger = Api(make_user(Role.SUBMITTER))
    assert stranger.post(f"/tickets/{key}/watch", {}).status_code == 404
    assert stranger.get(f"/tickets/{key}/watch").status_code == 404
    assert not Watch.objects.exists()


def test_a_watcher_hears_the_chosen_topics_once_and_notes_only_as_staff(
    key: str, watcher: User, cast: dict[str, User], step: Step,
    make_user: Callable[..., User],
) -> None:
    Api(watcher).post(f"/tickets/{key}/watch", {"topics": ["comments"]})
    Api(cast["owner"]).post(f"/tickets/{key}/watch", {})  # the assignee hears as assignee
    Api(cast["submitter"]).post(f"/tickets/{key}/watch", {"topics": ["comments"]})
    owner = Api(cast["owner"])
    step(owner.post, f"/tickets/{key}/comments", {"body": "Looking at the locale now."})
    step(owner.post, f"/tickets/{key}/comments", {"body": "Host 10.0.3.21", "internal": True})
    step(owner.act, key, "acknowledge")  # a status change: not chosen

    assert kinds(watcher.email) == [K.WATCH_COMMENT, K.WATCH_COMMENT]
    assert "Alice Owner commented on" in only(watcher.email, K.WATCH_COMMENT).body
    assert "You follow this ticket" in only(watcher.email, K.WATCH_COMMENT).body
    assert kinds(cast["owner"].email) == []  # their own acts
    assert kinds(cast["submitter"].email) == [K.REPLY]  # as submitter; never the note

    step(Api(cast["submitter"]).post, f"/tickets/{key}/comments", {"body": "好的"})
    assert kinds(cast["owner"].email) == [K.SUBMITTER_REPLY]  # once, as the assignee
    assert kinds(watcher.email) == [K.WATCH_COMMENT] * 3


def test_a_watcher_who_lost_sight_of_the_ticket_hears_nothing(
    key: str, cast: dict[str, User], step: Step,
) -> None:
    developer = cast["developer"]
    owner = Api(cast["owner"])
    owner.post(f"/tickets/{key}/collaborators", {"add": [developer.username]})
    Api(developer).post(f"/tickets/{key}/watch", {"topics": ["status"]})
    owner.post(f"/tickets/{key}/collaborators", {"remove": [developer.username]})
    mail.outbox.clear()
    step(owner.act, key, "acknowledge")
    assert kinds(developer.email) == []


def test_decisions_and_status_changes_by_topic(
    key: str, watcher: User, cast: dict[str, User], step: Step,
) -> None:
    Api(watcher).post(f"/tickets/{key}/watch", {"topics": ["status", "decisions"]})
    owner = Api(cast["owner"])
    step(owner.act, key, "acknowledge")
    step(owner.act, key, "classify", problem_type="code", module="payment", estimate_minutes=60)
    step(owner.act, key, "propose_plan", **PLANS["code_fix"])
    step(Api(cast["head"]).act, key, "reject_plan", reason="请改到周末发布")
    assert kinds(watcher.email) == [K.WATCH_STATUS, K.WATCH_STATUS, K.WATCH_STATUS,
                                    K.WATCH_DECISION]
    decision = only(watcher.email, K.WATCH_DECISION)
    assert "Reason: 请改到周末发布" in decision.body
    assert "It is now Planning." in decision.body


def test_the_ticket_page_follows_and_unfollows(
    key: str, watcher: User, browser_as: Any,
) -> None:
    browser = browser_as(watcher, "en")
    page = browser.get(f"/tickets/{key}/")
    assert "Follow this ticket" in page.content.decode()
    assert browser.post(f"/tickets/{key}/watch", {"topics": ["status"]}).status_code == 302
    assert Watch.objects.get().topics == ["status"]
    assert "Stop following" in browser.get(f"/tickets/{key}/").content.decode()
    browser.post(f"/tickets/{key}/watch", {"stop": "1"})
    assert not Watch.objects.exists()
