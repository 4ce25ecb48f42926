"""A ticket's answer is built without its schema (answers.py); it must say exactly what the
documented schema says, for tickets in every stage, to every role."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone, translation

from opsdesk.accounts.models import User
from opsdesk.rendering import RENDERER
from opsdesk.tickets import policy, selectors, workflow
from opsdesk.tickets.answers import describe_action
from opsdesk.tickets.choices import Status
from opsdesk.tickets.schemas import TicketOut, TicketPage
from tests.conftest import Api
from tests.factories import TicketFactory, report, ticket_in


def _as_schema_says(user: User, key: str) -> object:
    ticket = selectors.get_ticket(user=user, key=key)
    ticket.actions = [describe_action(t, ticket) for t in policy.available_actions(user, ticket)]
    ticket.editable_fields = sorted(
        [] if ticket.is_read_only else policy.editable_fields(user, ticket))
    data = TicketOut.model_validate(ticket).model_dump()
    return json.loads(RENDERER.render(RequestFactory().get("/"), data, response_status=200))


@pytest.mark.parametrize("status", [Status.NEW, Status.AWAITING_APPROVAL, Status.IN_PROGRESS,
                                    Status.CLOSED, Status.ARCHIVED])
@pytest.mark.parametrize("role", ["owner", "submitter", "head"])
def test_the_answer_is_what_the_schema_documents(
    status: Status, role: str, people: dict[str, User],
) -> None:
    ticket = ticket_in(status, people=people, collaborators=("developer",),
                       occurred_at="2026-11-20T09:30:00+08:00")
    user = people[role]
    # Time stands still: the SLA's remaining seconds would differ across a second's turn.
    with time_machine.travel(timezone.now(), tick=False):
        answered = Api(user).read(ticket.key)
        assert answered == _as_schema_says(user, ticket.key)
    assert answered["collaborators"][0]["username"] == people["developer"].username
    assert answered["sla"]["policy"]
    if status != Status.NEW:
        assert answered["current_plan"]["created_by"]["username"] == people["owner"].username


@pytest.mark.parametrize("query", [{}, {"status": ["new", "in_progress", "closed"]},
                                   {"sla": "breached"}, {"text": "支付"}, {"order": "priority"}])
@pytest.mark.parametrize("role", ["duty", "submitter"])
def test_a_list_page_is_what_the_schema_documents(
    query: dict[str, object], role: str, people: dict[str, User], settings: object,
) -> None:
    # Tickets in every shape a list shows: routed or not, with a clock or none, assigned, in
    # a module, breached, closed; two pages of them.
    for status in (Status.NEW, Status.IN_PROGRESS, Status.CLOSED):
        ticket_in(status, people=people, title=f"支付回调失败 {status}")
    settings.OPSDESK_DISPATCH = "worker"  # filed, not yet routed: no clock, no module
    TicketFactory(by=people["submitter"], title="支付页面空白")
    settings.OPSDESK_DISPATCH = "inline"
    breached = ticket_in(Status.NEW, people=people, title="登录超时")
    user = people[role]
    with time_machine.travel(breached.submitted_at + timezone.timedelta(days=3), tick=False):
        answered = Api(user).get("/tickets", limit=2, **query).json()
        after = {"limit": 2, **({"cursor": answered["next_cursor"]}
                                if answered["next_cursor"] else {})}
        following = Api(user).get("/tickets", **after, **query).json()
        for page, limit, cursor in ((answered, 2, None), (following, 2, after.get("cursor"))):
            expected = selectors.list_tickets(
                user=user, filters=selectors.TicketFilters(
                    status=query.get("status"), sla=query.get("sla"), text=query.get("text")),
                order=query.get("order"), cursor=cursor, limit=limit)
            data = TicketPage.model_validate(expected).model_dump()
            assert page == json.loads(RENDERER.render(RequestFactory().get("/"), data,
                                                      response_status=200))
    shown = [item for page in (answered, following) for item in page["items"]]
    assert shown
    if not query:
        assert {item["sla"]["state"] for item in shown} >= {"breached"}


def test_a_new_ticket_answers_as_it_reads_back(api: dict[str, Api],
                                               people: dict[str, User]) -> None:
    # Time stands still: the SLA's remaining seconds would differ across a second's turn.
    traveller = time_machine.travel(timezone.now(), tick=False)
    traveller.start()
    created = api["duty"].post("/tickets", report(
        title="支付回调失败", impact="some_users", urgency="high",
        submitter=people["submitter"].username, description="回调返回 500",
    ))
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json; charset=utf-8"
    body = created.json()
    assert body == api["duty"].read(body["key"])
    assert body == _as_schema_says(people["duty"], body["key"])
    traveller.stop()


def test_the_actions_are_described_in_each_readers_language(people: dict[str, User]) -> None:
    # Action and field descriptions are kept per language: each reader gets their own, in
    # whatever order the languages are asked for.
    ticket = ticket_in(Status.NEW, people=people)
    readers = {"en": Api(people["duty"], "en"), "zh-hans": Api(people["duty"], "zh-hans")}
    for language in ("en", "zh-hans", "en", "zh-hans"):
        actions = readers[language].read(ticket.key)["actions"]
        assert actions
        with translation.override(language):
            for action in actions:
                transition = next(t for t in workflow.TRANSITIONS if t.name == action["name"])
                assert action["label"] == str(transition.label)
                assert action["help"] == str(transition.help)
                described = [*action["requires"], *action["accepts"]]
                expected = [*(n.field for n in transition.requires), *transition.accepts]
                assert [d["label"] for d in described] == [str(f.label) for f in expected]
                assert [d.get("choices") for d in described] == [
                    [{"value": v, "label": str(label)} for v, label in f.choices] or None
                    for f in expected]
