"""Timeline entries opsdesk writes itself are stored as data and said in the reader's language
when read, on the ticket page and in the API's 'text': a note written while the worker spoke
Chinese reads in English to an English reader. Rows stored as text before still show."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from opsdesk.accounts.roles import Role
from opsdesk.tickets import services
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.models import TimelineEvent
from opsdesk.web.timeline import entry
from tests.conftest import Api
from tests.factories import report

HAN = re.compile(r"[\u3400-\u9fff]")
pytestmark = pytest.mark.django_db


@pytest.fixture
def english_desk(make_user):
    """People with ASCII names, so that any Han character on an English page is opsdesk's."""
    return {
        "duty": make_user(Role.DUTY, display_name="Zhang Wei", language="en"),
        "submitter": make_user(Role.SUBMITTER, display_name="Sun Li", language="en"),
    }


def pk(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


def file_unrouted(submitter) -> str:
    """A report no rule places (no module): it waits for the duty engineer, noted by the
    routing while the worker speaks Chinese."""
    body = report(title="Cannot sign in", description="Since 8:40 sign-in fails.",
                  steps_to_reproduce="1. open the page", error_message="HTTP 500",
                  impact_scope="30 people")
    with translation.override("zh-hans"):
        response = Api(submitter).post("/tickets", body)
    assert response.status_code == 201, response.json()
    return response.json()["key"]


def test_the_routing_note_is_said_in_the_readers_language(english_desk, browser_as):
    key = file_unrouted(english_desk["submitter"])
    [note] = [e for e in Api(english_desk["duty"]).timeline(key) if e["kind"] == "routing"]
    assert note["data"]["note"] == "waiting_for_duty" and "message" not in note["data"]
    assert "Waiting for the duty engineer" in note["text"] and not HAN.search(note["text"])

    page = browser_as(english_desk["duty"], "en").get(f"/tickets/{key}/")
    assert page.status_code == 200
    assert re.search(r"Waiting for the duty engineer [^<]+ to triage\.", page.content.decode())


def test_a_note_stored_as_text_before_still_shows(english_desk, browser_as):
    key = file_unrouted(english_desk["submitter"])
    event = TimelineEvent.objects.filter(ticket_id=pk(key), kind="routing").get()
    TimelineEvent.objects.create(ticket=event.ticket, kind="routing", internal=True,
                                 data={"message": "Waiting for the duty engineer (old row)."})
    page = browser_as(english_desk["duty"], "en").get(f"/tickets/{key}/").content.decode()
    assert "Waiting for the duty engineer (old row)." in page


def test_opsdesk_own_reasons_are_not_frozen_in_the_writers_language(english_desk):
    key = file_unrouted(english_desk["submitter"])
    ticket = TimelineEvent.objects.filter(ticket_id=pk(key)).first().ticket
    with translation.override("zh-hans"):
        assert services.raise_priority(ticket_id=ticket.pk, priority=Priority.URGENT, reason={
            "code": "severer_alert", "level": "critical", "title": "disk full"})
    [raised] = [e for e in Api(english_desk["duty"]).timeline(key)
                if e["kind"] == "fields_changed"]
    assert "A more severe alert (critical) fires in this fault: disk full" in raised["text"]
    assert not HAN.search(raised["text"])


def test_an_imported_tickets_history_is_said_in_the_readers_language(english_desk):
    key = file_unrouted(english_desk["submitter"])
    ticket = TimelineEvent.objects.filter(ticket_id=pk(key)).first().ticket
    TimelineEvent.objects.create(ticket=ticket, kind="transition", data={
        "action": "import", "from": "new", "to": "closed", "source": "imported",
        "system": "jira", "key": "PAY-12", "reference": "PAY-12"})
    [imported] = [e for e in Api(english_desk["duty"]).timeline(key)
                  if e["data"].get("action") == "import"]
    assert imported["text"].splitlines()[0] == "Imported: New → Closed"
    with translation.override("zh-hans"):
        assert entry(TimelineEvent.objects.get(pk=imported["id"])).title == (
            f"{translation.gettext('Imported')}: {translation.gettext('New')} → "
            f"{translation.gettext('Closed')}")
