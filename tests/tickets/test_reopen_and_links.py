"""A closed ticket is reopened within OPSDESK_REOPEN_DAYS (its resolution clock running again);
after that "it happened again" files a new ticket linked as a recurrence; tickets are linked as
duplicate of, related to, caused by or recurrence of, shown on both; closing as a duplicate
points to the original (walked through the API)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from opsdesk.accounts.roles import Role
from opsdesk.sla.models import Clock
from opsdesk.tickets.choices import Status
from opsdesk.tickets.hooks import TicketChange, _after_change
from opsdesk.tickets.models import Ticket, TicketLink
from tests.factories import TicketFactory, report, ticket_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def changes():
    heard: list[TicketChange] = []
    _after_change.append(heard.append)
    yield heard
    _after_change.remove(heard.append)


def closed_days_ago(people, days: float, status: str = Status.CLOSED) -> Ticket:
    with time_machine.travel(timezone.now() - timedelta(days=days)):
        return ticket_in(status, people=people)


# Reopening -----------------------------------------------------------------------------------


def test_the_submitter_reopens_within_the_window_and_the_clock_runs_again(api, people, changes):
    ticket = closed_days_ago(people, 2)
    assert Clock.objects.get(ticket=ticket).resolved_at is not None
    assert "reopen" in [a["name"] for a in api["submitter"].read(ticket.key)["actions"]]

    refused = api["submitter"].act(ticket.key, "reopen")
    assert refused.json()["details"]["missing"] == ["reason"]
    reopened = api["submitter"].act(ticket.key, "reopen", reason="今天上午又无法登录了")

    assert reopened.status_code == 200, reopened.json()
    body = reopened.json()
    assert body["status"] == "analysing" and body["closed_at"] is None
    assert body["reopen_count"] == 1
    assert body["assignee"]["username"] == people["owner"].username
    clock = Clock.objects.get(ticket=ticket)
    assert clock.resolved_at is None and clock.running_since is not None
    sla = [e for e in api["owner"].timeline(ticket.key) if e["kind"] == "sla"][-1]
    assert sla["data"]["event"] == "reopened" and sla["data"]["action"] == "reopen"
    [change] = [c for c in changes if c.action == "reopen"]
    assert change.details["reason"] == "今天上午又无法登录了"
    # Work starts over from analysis: a new plan, saying when it will be done.
    plan = api["owner"].act(ticket.key, "classify")
    assert plan.json()["status"] == "planning", plan.json()


def test_an_archived_ticket_is_reopened_within_the_window_too(api, people):
    ticket = closed_days_ago(people, 1, Status.ARCHIVED)

    reopened = api["duty"].act(ticket.key, "reopen", reason="用户反馈问题复现")

    assert reopened.json()["status"] == "analysing"
    assert reopened.json()["archived_at"] is None


def test_after_the_window_reopening_is_refused_and_a_recurrence_is_filed(api, people, settings):
    settings.OPSDESK_REOPEN_DAYS = 7
    ticket = closed_days_ago(people, 8)
    assert "reopen" not in [a["name"] for a in api["submitter"].read(ticket.key)["actions"]]

    refused = api["submitter"].act(ticket.key, "reopen", reason="又出现了")
    assert (refused.status_code, refused.json()["code"]) == (409, "transition_refused")
    assert "recurrence" in refused.json()["message"] and "7" in refused.json()["message"]
    incomplete = api["submitter"].post(f"/tickets/{ticket.key}/recurrence",
                                       {"description": "又无法登录了"})
    assert incomplete.status_code == 422
    assert "occurred_at" in incomplete.json()["details"]["missing"]

    filed = api["submitter"].post(f"/tickets/{ticket.key}/recurrence", {
        **{k: v for k, v in report().items() if k not in ("title", "impact", "urgency")},
        "description": "今天 9:00 起再次无法登录"})

    assert filed.status_code == 201, filed.json()
    new = filed.json()
    assert new["key"] != ticket.key and new["title"] == ticket.title
    assert new["submitter"]["username"] == people["submitter"].username
    assert new["description"] == "今天 9:00 起再次无法登录"
    mine = api["submitter"].get(f"/tickets/{new['key']}/links").json()
    assert [(link["kind"], link["direction"], link["ticket"]["key"]) for link in mine] == [
        ("recurrence_of", "outgoing", ticket.key)]
    theirs = api["submitter"].get(f"/tickets/{ticket.key}/links").json()
    assert [(link["direction"], link["label"], link["ticket"]["key"]) for link in theirs] == [
        ("incoming", "recurred as", new["key"])]
    assert api["submitter"].read(ticket.key)["status"] == "closed"  # untouched


def test_within_the_window_a_recurrence_asks_to_reopen_instead(api, people):
    ticket = closed_days_ago(people, 1)

    response = api["submitter"].post(f"/tickets/{ticket.key}/recurrence", report())

    assert (response.status_code, response.json()["code"]) == (409, "transition_refused")
    assert "reopen" in response.json()["message"]


def test_only_the_submitter_and_staff_report_a_recurrence(api, people):
    ticket = closed_days_ago(people, 30)

    response = api["other_submitter"].post(f"/tickets/{ticket.key}/recurrence", report())

    assert response.status_code == 404
    assert Ticket.objects.count() == 1


AGAIN = {k: v for k, v in report().items() if k not in ("title", "impact", "urgency")}


def test_a_recurrence_keeps_the_submitters_details_from_the_original(people, browser_as,
                                                                     make_user):
    """Her name, contact and department as she gave them: the portal's form has no contact
    field, and her account may hold none."""
    silent = make_user(Role.SUBMITTER, display_name="钱芳", email="", department="")
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        ticket = ticket_in(Status.CLOSED, people={**people, "submitter": silent},
                           submitter_contact="分机 8021", submitter_department="财务部",
                           submitter_name="钱芳（财务）")

    page = browser_as(silent, "en").post(f"/tickets/{ticket.key}/recurrence", {
        k: AGAIN[k] for k in ("description", "steps_to_reproduce", "error_message",
                              "impact_scope")} | {"occurred_at": "2024-12-02T09:30"})

    assert page.status_code == 302, page.content.decode()
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert new.submitter == silent
    assert (new.submitter_name, new.submitter_contact, new.submitter_department) == (
        "钱芳（财务）", "分机 8021", "财务部")


def test_staff_report_a_recurrence_for_an_external_submitter_in_her_name(api, people):
    ticket = closed_days_ago(people, 30)
    Ticket.objects.filter(pk=ticket.pk).update(
        submitter=None, submitter_name="王芳", submitter_contact="wangfang@partner.example",
        submitter_department="合作方", channel="email")

    filed = api["duty"].post(f"/tickets/{ticket.key}/recurrence", AGAIN)

    assert filed.status_code == 201, filed.json()
    new = Ticket.objects.get(pk=filed.json()["id"])
    assert new.submitter is None
    assert (new.submitter_name, new.submitter_contact, new.submitter_department) == (
        "王芳", "wangfang@partner.example", "合作方")
    assert filed.json()["submitter"] is None


def test_details_given_with_the_recurrence_replace_the_originals(api, people):
    ticket = closed_days_ago(people, 30)

    filed = api["submitter"].post(f"/tickets/{ticket.key}/recurrence", {
        **AGAIN, "submitter_contact": "13800000000", "submitter_department": "运营二部"})

    assert filed.status_code == 201, filed.json()
    new = filed.json()
    assert (new["submitter_contact"], new["submitter_department"]) == ("13800000000", "运营二部")


# Links ---------------------------------------------------------------------------------------


def test_staff_link_tickets_both_see_it_and_remove_it(api, people, changes):
    first = TicketFactory(by=people["submitter"])
    second = TicketFactory(by=people["other_submitter"])

    added = api["owner"].post(f"/tickets/{second.key}/links",
                              {"kind": "caused_by", "ticket": first.key})

    assert added.status_code == 201, added.json()
    link = added.json()
    assert (link["kind"], link["direction"], link["label"]) == ("caused_by", "outgoing",
                                                                "caused by")
    assert link["ticket"] == {"key": first.key, "title": first.title, "status": "new"}
    assert link["created_by"]["username"] == people["owner"].username
    other_side = api["owner"].get(f"/tickets/{first.key}/links").json()
    assert [(x["direction"], x["label"], x["ticket"]["key"]) for x in other_side] == [
        ("incoming", "caused", second.key)]
    # The submitter of the first sees the link, not the other person's ticket.
    seen = api["submitter"].get(f"/tickets/{first.key}/links").json()
    assert seen[0]["ticket"] == {"key": second.key, "title": None, "status": None}
    for key in (first.key, second.key):
        linked = [e for e in api["owner"].timeline(key) if e["kind"] == "linked"]
        assert len(linked) == 1
    assert {c.ticket.pk for c in changes if c.action == "link"} == {first.pk, second.pk}

    again = api["owner"].post(f"/tickets/{first.key}/links",
                              {"kind": "caused_by", "ticket": second.key})
    assert again.status_code == 422  # already linked that way
    itself = api["owner"].post(f"/tickets/{first.key}/links",
                               {"kind": "related_to", "ticket": first.key})
    assert itself.status_code == 422

    removed = api["owner"].client.delete(f"/api/v1/tickets/{first.key}/links/{link['id']}")
    assert removed.status_code == 204
    assert not TicketLink.objects.exists()
    for key in (first.key, second.key):
        assert [e["kind"] for e in api["owner"].timeline(key)].count("unlinked") == 1


def test_only_staff_link_and_only_to_tickets_they_can_see(api, people):
    mine = TicketFactory(by=people["submitter"])
    theirs = TicketFactory(by=people["other_submitter"])

    refused = api["submitter"].post(f"/tickets/{mine.key}/links",
                                    {"kind": "related_to", "ticket": theirs.key})
    assert refused.status_code == 403
    unknown = api["owner"].post(f"/tickets/{mine.key}/links",
                                {"kind": "related_to", "ticket": "OPS-999999"})
    assert unknown.status_code == 422 and "OPS-999999" in unknown.json()["message"]
    bad_kind = api["owner"].post(f"/tickets/{mine.key}/links",
                                 {"kind": "blocks", "ticket": theirs.key})
    assert bad_kind.status_code == 422
    assert not TicketLink.objects.exists()


def test_closing_as_a_duplicate_points_to_the_original(api, people):
    original = TicketFactory(by=people["submitter"])
    duplicate = TicketFactory(by=people["other_submitter"])

    closed = api["duty"].act(duplicate.key, "dismiss", duplicate_of=original.key)

    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"
    links = api["duty"].get(f"/tickets/{duplicate.key}/links").json()
    assert [(x["kind"], x["direction"], x["ticket"]["key"]) for x in links] == [
        ("duplicate_of", "outgoing", original.key)]
    back = api["duty"].get(f"/tickets/{original.key}/links").json()
    assert [(x["label"], x["ticket"]["key"]) for x in back] == [
        ("has a duplicate", duplicate.key)]
    event = [e for e in api["other_submitter"].timeline(duplicate.key)
             if e["data"].get("action") == "dismiss"][-1]
    assert event["data"]["duplicate_of"] == original.key
    unknown = api["duty"].act(original.key, "dismiss", duplicate_of="OPS-999999")
    assert unknown.status_code == 422 and api["duty"].read(original.key)["status"] == "new"


@pytest.mark.parametrize("kind", ["related_to", "duplicate_of", "caused_by", "recurrence_of"])
def test_two_tickets_are_linked_one_way_per_kind_whatever_the_direction(api, people, kind):
    """Related to reads the same both ways; the reverse of a directed link would contradict
    it (each the other's duplicate, cause or recurrence). The database holds it too, so two
    people linking the pair from either side at once leave one link."""
    first, second = TicketFactory(by=people["submitter"]), TicketFactory(by=people["submitter"])
    added = api["owner"].post(f"/tickets/{first.key}/links", {"kind": kind, "ticket": second.key})
    assert added.status_code == 201, added.json()

    reverse = api["owner"].post(f"/tickets/{second.key}/links",
                                {"kind": kind, "ticket": first.key})
    with pytest.raises(IntegrityError), transaction.atomic():  # what a concurrent twin meets
        TicketLink.objects.create(source=second, target=first, kind=kind)

    assert (reverse.status_code, reverse.json()["code"]) == (422, "invalid_field")
    assert first.key in reverse.json()["message"] and second.key in reverse.json()["message"]
    assert TicketLink.objects.count() == 1
    other_kind = "caused_by" if kind == "related_to" else "related_to"
    assert api["owner"].post(f"/tickets/{second.key}/links", {
        "kind": other_kind, "ticket": first.key}).status_code == 201


# The schema changes, so not inside a transaction; serialized_rollback puts back the data
# migrations' rows afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_upgrade_keeps_the_first_of_two_links_made_both_ways(people):
    first, second = TicketFactory(by=people["submitter"]), TicketFactory(by=people["submitter"])
    pair = next(c for c in TicketLink._meta.constraints if c.name == "unique_link_pair")
    with connection.schema_editor() as editor:  # as before the pair was held unique
        editor.remove_constraint(TicketLink, pair)
    try:
        kept = TicketLink.objects.create(source=first, target=second, kind="related_to")
        TicketLink.objects.create(source=second, target=first, kind="related_to")
        TicketLink.objects.create(source=second, target=first, kind="caused_by")
        upgrade = importlib.import_module("opsdesk.tickets.migrations.0015_link_pair_unique")

        upgrade.drop_reverse_twins(django_apps, None)

        assert sorted(TicketLink.objects.values_list("pk", "kind")) == [
            (kept.pk, "related_to"), (kept.pk + 2, "caused_by")]
    finally:
        TicketLink.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(TicketLink, pair)
