"""A comment from someone without an account (an external submitter answering by mail):
recorded with its author's name, public only, and it resumes a ticket waiting on them."""

from __future__ import annotations

import pytest

from opsdesk.accounts.models import User
from opsdesk.tickets import services
from opsdesk.tickets.errors import InvalidField
from opsdesk.tickets.models import Ticket
from tests.conftest import Api


@pytest.fixture
def external_ticket(people: dict[str, User]) -> Ticket:
    ticket = services.create_ticket(
        by=None, title="无法下单", impact="few_users", urgency="normal", channel="email",
        submitter_name="客户张三", submitter_contact="customer@client.example",
    )
    services.do_transition(ticket_id=ticket.pk, action="triage", by=people["duty"], version=None,
                           fields={"priority": "medium", "assignee": people["support"].username})
    services.do_transition(ticket_id=ticket.pk, action="acknowledge", by=people["support"],
                           version=None)
    return services.do_transition(ticket_id=ticket.pk, action="request_info",
                                  by=people["support"], version=None,
                                  fields={"comment": "请提供浏览器版本"})


def test_an_external_reply_is_recorded_with_its_author_and_resumes_the_ticket(
    external_ticket: Ticket, api: dict[str, Api]
) -> None:
    assert external_ticket.status == "waiting"
    comment = services.add_comment(ticket_id=external_ticket.pk, by=None, body="Chrome 120",
                                   author_name="客户张三 <customer@client.example>")

    assert comment.author is None
    external_ticket.refresh_from_db()
    assert external_ticket.status == "analysing"
    events = api["support"].timeline(external_ticket.key)
    said = next(e for e in events if e["kind"] == "comment" and e["data"]["body"] == "Chrome 120")
    assert said["actor"] is None
    assert said["data"]["from"] == "客户张三 <customer@client.example>"


def test_an_external_comment_needs_a_name_and_cannot_be_internal(
    external_ticket: Ticket
) -> None:
    with pytest.raises(InvalidField):
        services.add_comment(ticket_id=external_ticket.pk, by=None, body="hi")
    with pytest.raises(InvalidField):
        services.add_comment(ticket_id=external_ticket.pk, by=None, body="hi", internal=True,
                             author_name="客户张三")
    external_ticket.refresh_from_db()
    assert external_ticket.status == "waiting"
