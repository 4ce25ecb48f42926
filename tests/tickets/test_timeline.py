"""The timeline: append-only, every write on it with who and when, internal notes kept in-house."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.db.models import ProtectedError

from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange, _after_change
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.factories import PLANS, TicketFactory, fields_for, report, ticket_in

pytestmark = pytest.mark.django_db


def step(command: str, **more: object) -> dict[str, object]:
    """A work-log step as the API takes it, five minutes long."""
    return {"command": command, "duration_minutes": 5, **more}


def test_events_can_be_neither_changed_nor_deleted(people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    first = ticket.timeline.first()
    recorded = list(TimelineEvent.objects.filter(ticket=ticket).values())

    first.data = {"priority": "low"}
    attempts = [
        first.save,
        first.delete,
        lambda: TimelineEvent.objects.filter(ticket=ticket).update(data={}),
        lambda: TimelineEvent.objects.filter(ticket=ticket).delete(),
        lambda: TimelineEvent.objects.bulk_update([first], ["data"]),
        lambda: ticket.timeline.update(actor=None),
        lambda: ticket.timeline.all().delete(),
    ]

    for attempt in attempts:
        # Each in its own savepoint: bulk_update fails inside a transaction of its own.
        with pytest.raises(TypeError, match="append-only"), transaction.atomic():
            attempt()
    # Nor does the history go with its ticket.
    with pytest.raises(ProtectedError), transaction.atomic():
        Ticket.objects.get(pk=ticket.pk).delete()
    assert list(TimelineEvent.objects.filter(ticket=ticket).values()) == recorded


def test_internal_notes_stay_with_the_department(api, people):
    ticket = ticket_in(Status.ANALYSING, people=people, collaborators=("developer",))
    key = ticket.key

    note = api["owner"].post(f"/tickets/{key}/comments",
                             {"body": "怀疑是缓存穿透，先不要告诉用户", "internal": True})
    reply = api["owner"].post(f"/tickets/{key}/comments", {"body": "我们正在排查，请稍候。"})
    attempt = api["submitter"].post(f"/tickets/{key}/comments",
                                    {"body": "我能写内部备注吗？", "internal": True})

    assert (note.status_code, reply.status_code) == (201, 201)
    assert (attempt.status_code, attempt.json()["code"]) == (403, "forbidden")
    bodies = {
        who: [e["data"]["body"] for e in api[who].timeline(key) if e["kind"] == "comment"]
        for who in ("submitter", "owner", "developer")
    }
    assert bodies["submitter"] == ["我们正在排查，请稍候。"]
    assert bodies["owner"] == bodies["developer"] == [
        "怀疑是缓存穿透，先不要告诉用户", "我们正在排查，请稍候。"]
    assert "缓存穿透" not in api["submitter"].get(f"/tickets/{key}/timeline").content.decode()
    internal = [e for e in api["owner"].timeline(key) if e["internal"] and e["kind"] == "comment"]
    assert [e["data"]["body"] for e in internal] == ["怀疑是缓存穿透，先不要告诉用户"]


def test_every_write_leaves_an_event_with_who_and_when(api, people, payment):
    """One write of every kind, each at its own moment; each is on the timeline with the
    person who made it and the moment it was made."""
    start = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    writes = []

    def at(minute, who, kind, call, **data):
        moment = start + timedelta(minutes=minute)
        with time_machine.travel(moment, tick=False):
            response = call()
        assert response.status_code in (200, 201), (kind, response.json())
        writes.append((kind, people[who].username, moment, data))
        return response.json()

    owner, head, submitter = api["owner"], api["head"], api["submitter"]
    key = at(0, "submitter", "created", lambda: submitter.post(
        "/tickets", report(title="用户无法登录", impact="some_users", urgency="high")))["key"]
    at(1, "submitter", "fields_changed", lambda: submitter.patch(
        f"/tickets/{key}", {"version": 1, "fields": {"title": "用户无法登录系统"}}))
    at(2, "duty", "transition", lambda: api["duty"].act(
        key, "triage", **fields_for("triage", people)), action="triage")
    at(3, "duty", "fields_changed", lambda: api["duty"].post(
        f"/tickets/{key}/collaborators", {"add": [people["developer"].username]}))
    at(4, "owner", "transition", lambda: owner.act(key, "acknowledge"), action="acknowledge")
    at(5, "developer", "comment", lambda: api["developer"].post(
        f"/tickets/{key}/comments", {"body": "日志里有大量 401"}))
    at(6, "owner", "transition", lambda: owner.act(
        key, "classify", **fields_for("classify", people)), action="classify")
    at(7, "owner", "plan", lambda: owner.act(key, "propose_plan", **PLANS["code_fix"]))
    at(8, "head", "rejection", lambda: head.post(
        f"/tickets/{key}/reject", {"version": owner.read(key)["version"], "reason": "周末发"}))
    at(9, "owner", "plan", lambda: owner.act(key, "propose_plan", **PLANS["code_fix"]))
    at(10, "owner", "escalation", lambda: owner.post(
        f"/tickets/{key}/escalate", {"version": owner.read(key)["version"], "reason": "急"}))
    at(11, "head", "approval", lambda: head.post(
        f"/tickets/{key}/approve", {"version": owner.read(key)["version"]}))
    at(12, "developer", "work_log", lambda: api["developer"].post(
        f"/tickets/{key}/worklog", step("git revert 4f2a91c", kind="deploy")))
    at(13, "owner", "transition", lambda: owner.act(
        key, "resolve", **fields_for("resolve", people)), action="resolve")
    at(14, "submitter", "verification", lambda: submitter.post(
        f"/tickets/{key}/verify", {"version": owner.read(key)["version"], "accepted": False,
                                   "reason": "还是不行"}))

    events = owner.timeline(key)
    for kind, username, moment, data in writes:
        matching = [
            e for e in events
            if e["kind"] == kind and e["actor"] and e["actor"]["username"] == username
            and datetime.fromisoformat(e["at"]) == moment and e["data"].items() >= data.items()
        ]
        assert len(matching) == 1, (kind, username, moment, events)
    # Every kind of write a person makes (other apps add their own kinds for the system's).
    assert {kind for kind, *_ in writes} == {
        "created", "fields_changed", "transition", "comment", "plan", "rejection",
        "escalation", "approval", "work_log", "verification",
    }
    # In the order they happened, each event after the one before.
    # (Notifications an action sends name its actor too; they are its consequence, not a write.)
    mine = [e for e in events if e["actor"] is not None and e["kind"] != "notification"]
    assert [datetime.fromisoformat(e["at"]) for e in mine] == [w[2] for w in writes]


def test_a_refused_write_leaves_no_trace(api, people):
    ticket = TicketFactory(by=people["submitter"])
    events = api["duty"].timeline(ticket.key)

    api["support"].act(ticket.key, "triage", **fields_for("triage", people))
    api["duty"].act(ticket.key, "triage")
    api["duty"].act(ticket.key, "triage", version=99, **fields_for("triage", people))
    api["submitter"].post(f"/tickets/{ticket.key}/comments", {"body": " "})

    assert api["duty"].timeline(ticket.key) == events


def test_a_comments_hooks_are_told_which_comment_it_is(people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    heard: list[TicketChange] = []
    _after_change.append(heard.append)
    try:
        comment = services.add_comment(ticket_id=ticket.pk, by=people["owner"], body="看一下")
    finally:
        _after_change.remove(heard.append)

    [change] = [c for c in heard if c.action == "comment"]
    assert change.details == {"comment": comment.pk}
