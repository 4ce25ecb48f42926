"""What the desk refuses, and how it says so: the wrong person, missing fields, execution before
approval, other people's tickets, stale versions, bad input, and callers who are not signed in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.utils import translation

from opsdesk.accounts.models import User
from opsdesk.accounts.services import create_api_token, revoke_api_token
from opsdesk.tickets import fields as f
from opsdesk.tickets import services, workflow
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Comment, Ticket, TimelineEvent, WorkLogStep
from opsdesk.tickets.workflow import Party
from tests.conftest import Api
from tests.factories import PLANS, TicketFactory, fields_for, report, ticket_in

pytestmark = pytest.mark.django_db


def step(command: str, **more: object) -> dict[str, object]:
    """A work-log step as the API takes it, five minutes long."""
    return {"command": command, "duration_minutes": 5, **more}


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
        "timeline": list(TimelineEvent.objects.filter(ticket=ticket).values_list("id", flat=True)),
        "work_log": WorkLogStep.objects.filter(ticket=ticket).count(),
        "comments": Comment.objects.filter(ticket=ticket).count(),
        "plans": ticket.plans.count(),
    }


def english(text: Any) -> str:
    with translation.override("en"):
        return str(text)


def chinese(text: Any) -> str:
    with translation.override("zh-hans"):
        return str(text)


# The wrong person -----------------------------------------------------------------------------


def named_by(transition: workflow.Transition, user: User, ticket: Ticket) -> bool:
    """Whether the table's ``by`` column names ``user`` for this ticket."""
    for who in transition.by:
        if who is Party.ASSIGNEE and ticket.assignee_id == user.pk:
            return True
        if who is Party.SUBMITTER and ticket.submitter_id == user.pk:
            return True
        if not isinstance(who, Party) and who in user.roles:
            return True
    return False


EVERY_ACTION_FROM_EVERY_STATE = [
    pytest.param(t.name, source, id=f"{t.name}-from-{source}")
    for t in workflow.TRANSITIONS
    for source in t.sources
]


@pytest.mark.parametrize(("action", "source"), EVERY_ACTION_FROM_EVERY_STATE)
def test_only_the_people_the_table_names_may_take_an_action(api, people, action, source):
    transition = workflow.BY_NAME[action]
    # Developers and ops engineers pulled in can read the ticket, so they hear "forbidden".
    ticket = ticket_in(source, people=people, collaborators=("developer", "ops"))
    fields = fields_for(action, people)
    allowed = sorted(name for name, user in people.items() if named_by(transition, user, ticket))
    refused = sorted(people.keys() - set(allowed))
    before = snapshot(ticket)

    for name in refused:
        response = api[name].act(ticket.key, action, version=ticket.version, **fields)

        if name == "other_submitter":
            # Someone else's ticket does not exist for them.
            assert (response.status_code, response.json()["code"]) == (404, "not_found"), name
        else:
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), name
            assert english(transition.label) in response.json()["message"]
    assert snapshot(ticket) == before

    # The very same request from someone the table names goes through; an action no person
    # may take (the worker's reminders and closure) is opsdesk's own.
    if not allowed:
        assert transition.by == workflow.OPSDESK
        services.do_transition(ticket_id=ticket.pk, action=action, by=None,
                               version=ticket.version, fields=fields)
        return
    response = api[allowed[0]].act(ticket.key, action, version=ticket.version, **fields)
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("state", list(Status))
def test_no_action_is_taken_from_a_state_the_table_does_not_list(api, people, state):
    ticket = ticket_in(state, people=people)
    before = snapshot(ticket)
    elsewhere = [t for t in workflow.TRANSITIONS if state not in t.sources]
    assert elsewhere

    for transition in elsewhere:
        response = api["owner"].act(ticket.key, transition.name, version=ticket.version,
                                    **fields_for(transition.name, people))

        assert response.status_code == 409, (transition.name, response.json())
        body = response.json()
        assert (body["code"], body["details"]) == (
            "transition_refused", {"current_status": state})
        assert english(transition.label) in body["message"]
        assert english(Status(state).label) in body["message"]
    assert snapshot(ticket) == before


def test_a_submitter_may_not_file_for_someone_else_nor_set_the_priority(api, people):
    for body in (
        {"submitter": people["other_submitter"].username},
        {"source_kind": "alert"},
        {"priority": "urgent"},
    ):
        response = api["submitter"].post(
            "/tickets", {"title": "无法登录", "impact": "few_users", "urgency": "low", **body})

        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), body
    assert not Ticket.objects.exists()


def test_edits_outside_ones_part_are_refused(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people, collaborators=("developer",))
    before = snapshot(ticket)

    # The submitter may correct the report only until someone picks it up.
    late = api["submitter"].patch(f"/tickets/{ticket.key}",
                                  {"version": ticket.version, "fields": {"title": "改个标题"}})
    # A developer pulled in reads the ticket but does not own its classification.
    developer = api["developer"].patch(f"/tickets/{ticket.key}",
                                       {"version": ticket.version, "fields": {"priority": "low"}})

    for response in (late, developer):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert developer.json()["details"]["fields"] == ["priority"]
    assert snapshot(ticket) == before


@pytest.mark.parametrize(("action", "external"), [
    ("confirm", False), ("close_with_evidence", True)])
def test_only_an_external_submitter_answers_without_an_account_and_only_as_submitter(
        people, action, external):
    """An action taken in an external submitter's name is one the table gives the submitter,
    on a ticket whose submitter has no account."""
    ticket = ticket_in(Status.AWAITING_VERIFICATION, people=people)
    if external:
        Ticket.objects.filter(pk=ticket.pk).update(submitter=None)
    before = snapshot(ticket)

    with pytest.raises(services.PermissionRefused):
        services.do_transition(ticket_id=ticket.pk, action=action, by=None, version=None,
                               fields=fields_for(action, people), external_submitter=True)

    assert snapshot(ticket) == before


# Missing fields -------------------------------------------------------------------------------

FIELDS = {fld.name: fld for t in workflow.TRANSITIONS for fld in t.fields}
S = Status
MISSING = [
    (S.NEW, "triage", "duty", {}, ["assignee"]),
    (S.ASSIGNED, "reassign", "duty", {"reason": "换人"}, ["assignee"]),
    (S.NEW, "dismiss", "duty", {}, ["reason"]),
    (S.ANALYSING, "classify", "owner", {"problem_type": "code"},
     ["module", "estimate_minutes", "deadline_at"]),
    (S.PLANNING, "propose_plan", "owner", {}, ["plan_kind", "plan_summary"]),
    (S.PLANNING, "propose_plan", "owner", {"plan_kind": "code_fix", "plan_summary": "修复"},
     ["fix_version", "release_at"]),
    (S.PLANNING, "propose_plan", "owner",
     {"plan_kind": "requirement_delivery", "plan_summary": "新增导出"}, ["delivery_schedule"]),
    (S.AWAITING_APPROVAL, "reject_plan", "head", {}, ["reason"]),
    (S.IN_PROGRESS, "revise_plan", "owner", {}, ["reason"]),
    (S.IN_PROGRESS, "escalate", "owner", {}, ["reason"]),
    (S.IN_PROGRESS, "request_info", "owner", {"comment": "   "}, ["comment"]),
    (S.IN_PROGRESS, "resolve", "owner", {},
     ["cause", "solution", "time_taken_minutes", "prevention"]),
    (S.AWAITING_VERIFICATION, "reject_fix", "submitter", {}, ["reason"]),
    (S.AWAITING_VERIFICATION, "close_with_evidence", "owner", {}, ["verification_evidence"]),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("state", "action", "who", "given", "missing"), MISSING,
    ids=[f"{action}-{'-'.join(missing)}" for _s, action, _w, _g, missing in MISSING],
)
def test_missing_fields_are_named_in_the_callers_language(
    people, state, action, who, given, missing, language
):
    ticket = ticket_in(state, people=people)
    caller = Api(people[who], language=language)
    before = snapshot(ticket)

    response = caller.act(ticket.key, action, version=ticket.version, **given)

    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == "missing_fields"
    assert body["details"]["missing"] == missing
    in_language = english if language == "en" else chinese
    assert in_language(workflow.BY_NAME[action].label) in body["message"]
    for name in missing:
        assert in_language(FIELDS[name].label) in body["message"], name
    assert snapshot(ticket) == before  # not even the fields that were given


def test_the_missing_fields_message_reads_naturally_in_both_languages(people):
    ticket = ticket_in(Status.NEW, people=people)

    english_message = Api(people["duty"]).act(ticket.key, "triage", version=1).json()["message"]
    chinese_message = Api(people["duty"], "zh-hans").act(ticket.key, "triage", version=1).json()

    assert english_message == "Assign needs: assignee."
    assert chinese_message["message"] == "“分派”需要填写：处理人。"
    assert chinese(f.DEADLINE.label) != english(f.DEADLINE.label)  # the catalogue is in use


def test_conditional_requirements_say_when_they_apply(people):
    ticket = ticket_in(Status.ANALYSING, people=people)

    response = Api(people["owner"], "zh-hans").act(
        ticket.key, "classify", version=ticket.version,
        problem_type="code", module="payment", estimate_minutes=60)

    assert response.json()["details"]["missing"] == ["deadline_at"]
    assert chinese(workflow.URGENT_OR_HIGH) in response.json()["message"]


# Execution without approval ------------------------------------------------------------------


@pytest.mark.parametrize("state", [Status.PLANNING, Status.AWAITING_APPROVAL])
def test_nothing_is_executed_before_the_plan_is_approved(api, people, state):
    ticket = ticket_in(state, people=people, collaborators=("ops",))
    before = snapshot(ticket)

    for who in ("owner", "ops"):
        response = api[who].post(f"/tickets/{ticket.key}/worklog",
                                 step("systemctl restart nginx"))

        assert response.status_code == 409, response.json()
        assert response.json()["code"] == "approval_required"
        assert ticket.key in response.json()["message"]
    assert snapshot(ticket) == before
    assert api["owner"].get(f"/tickets/{ticket.key}/worklog").json() == []


def test_an_approval_does_not_carry_over_to_the_next_plan(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people)
    api["owner"].act(ticket.key, "revise_plan", reason="方案无效")

    in_planning = api["owner"].post(f"/tickets/{ticket.key}/worklog", step("ls"))
    api["owner"].act(ticket.key, "propose_plan", **PLANS["code_fix"])
    awaiting = api["owner"].post(f"/tickets/{ticket.key}/worklog", step("ls"))

    for response in (in_planning, awaiting):
        assert (response.status_code, response.json()["code"]) == (409, "approval_required")
    assert not WorkLogStep.objects.filter(ticket=ticket).exists()


def test_a_step_cannot_be_dated_before_its_plans_approval(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people)
    approved_at = ticket.current_plan.approved_at
    before = snapshot(ticket)

    response = api["owner"].post(f"/tickets/{ticket.key}/worklog", {
        "command": "UPDATE orders SET state = 'paid' WHERE id = 7;", "kind": "sql",
        "duration_minutes": 5,
        "executed_at": (approved_at - timedelta(hours=1)).isoformat(),
    })

    assert (response.status_code, response.json()["code"]) == (409, "approval_required")
    assert snapshot(ticket) == before


def test_only_the_assignee_and_collaborators_record_steps(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people)

    for who in ("support", "head", "duty"):
        response = api[who].post(f"/tickets/{ticket.key}/worklog", step("ls"))
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), who
    stranger = api["developer"].post(f"/tickets/{ticket.key}/worklog", step("ls"))
    assert stranger.status_code == 404
    assert not WorkLogStep.objects.filter(ticket=ticket).exists()


# Other people's tickets ----------------------------------------------------------------------


def test_a_submitter_cannot_see_another_submitters_ticket(api, people):
    theirs = TicketFactory(by=people["other_submitter"], title="周杰的工单")
    mine = TicketFactory(by=people["submitter"], title="孙丽的工单")
    key = theirs.key

    responses = [
        api["submitter"].get(f"/tickets/{key}"),
        api["submitter"].get(f"/tickets/{key}/timeline"),
        api["submitter"].get(f"/tickets/{key}/worklog"),
        api["submitter"].get(f"/tickets/{key}/actions"),
        api["submitter"].post(f"/tickets/{key}/comments", {"body": "我也遇到了"}),
        api["submitter"].patch(f"/tickets/{key}", {"version": 1, "fields": {"title": "x"}}),
    ]

    for response in responses:
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    listed = api["submitter"].get("/tickets").json()["items"]
    assert [t["key"] for t in listed] == [mine.key]
    assert api["submitter"].get("/tickets", text=key).json()["items"] == []
    assert api["submitter"].get("/tickets", text="周杰").json()["items"] == []
    assert not Comment.objects.exists()


@pytest.mark.parametrize("key", ["OPS-999999", "OPS-" + "9" * 30, "OPS-²", "OPS-x", "登录"])
def test_a_key_that_names_no_ticket_is_not_found(api, key):
    response = api["duty"].get(f"/tickets/{key}")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert key in response.json()["message"]


def test_developers_and_ops_see_only_the_tickets_they_are_pulled_into(api, people):
    for_developer = ticket_in(Status.ANALYSING, people=people, collaborators=("developer",))
    for_ops = ticket_in(Status.ANALYSING, people=people, collaborators=("ops",))
    neither = ticket_in(Status.ANALYSING, people=people)

    def listed(who):
        return [t["key"] for t in api[who].get("/tickets").json()["items"]]

    assert listed("developer") == [for_developer.key]
    assert listed("ops") == [for_ops.key]
    assert api["developer"].get(f"/tickets/{neither.key}").status_code == 404
    assert api["ops"].get(f"/tickets/{for_developer.key}").status_code == 404
    assert len(listed("support")) == 3  # support engineers read every ticket

    services.set_collaborators(ticket_id=for_developer.pk, by=people["owner"],
                               remove=[people["developer"].username])

    assert listed("developer") == []
    assert api["developer"].get(f"/tickets/{for_developer.key}").status_code == 404


# Concurrent updates ---------------------------------------------------------------------------


def test_of_two_edits_from_the_same_version_the_second_is_refused(api, people):
    key = ticket_in(Status.ANALYSING, people=people).key
    version = api["owner"].read(key)["version"]
    assert api["duty"].read(key)["version"] == version

    first = api["owner"].patch(f"/tickets/{key}",
                               {"version": version, "fields": {"analysis_notes": "日志已收集"}})
    second = api["duty"].patch(f"/tickets/{key}", {"version": version, "fields": {
        "analysis_notes": "值班人员的记录", "estimate_minutes": 30}})

    assert first.status_code == 200, first.json()
    assert (second.status_code, second.json()["code"]) == (409, "stale_version")
    assert second.json()["details"]["current_version"] == version + 1
    assert key in second.json()["message"]
    ticket = api["owner"].read(key)
    assert ticket["analysis_notes"] == "日志已收集"
    assert ticket["estimate_minutes"] is None and ticket["version"] == version + 1
    edits = [e for e in api["owner"].timeline(key) if e["kind"] == "fields_changed"]
    assert [e["actor"]["username"] for e in edits] == [people["owner"].username]


def test_of_two_actions_from_the_same_version_the_second_is_refused(api, people):
    ticket = ticket_in(Status.NEW, people=people)
    version = ticket.version

    first = api["duty"].act(ticket.key, "triage", version=version,
                            assignee=people["support"].username)
    second = api["head"].act(ticket.key, "dismiss", version=version, reason="重复")
    late_edit = api["head"].patch(f"/tickets/{ticket.key}",
                                  {"version": version, "fields": {"priority": "low"}})

    assert first.status_code == 200, first.json()
    for response in (second, late_edit):
        assert (response.status_code, response.json()["code"]) == (409, "stale_version")
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.closed_at is None
    assert ticket.priority_code == "high" and ticket.version == version + 1
    assert [e.data["action"] for e in ticket.timeline.all() if "action" in e.data] == ["triage"]


# Unknown fields and bad values ---------------------------------------------------------------

BAD_EDITS = [
    ({"colour": "red"}, "colour"),
    ({"priority": "critical"}, "urgent, high, medium, low"),
    ({"priority": None}, "priority"),
    ({"impact": None}, "impact"),
    ({"urgency": "yesterday"}, "urgency"),
    ({"estimate_minutes": -5}, "estimated handling time"),
    ({"estimate_minutes": "two hours"}, "estimated handling time"),
    ({"estimate_minutes": 10**12}, "estimated handling time"),
    ({"estimate_minutes": True}, "estimated handling time"),
    ({"deadline_at": "tomorrow"}, "deadline"),
    ({"module": "no-such-module"}, "no-such-module"),
    ({"title": "   "}, "title"),
    ({"title": "很长" * 101}, "title"),
    ({"submitter_contact": "1" * 201}, "submitter contact"),
]


@pytest.mark.parametrize(("fields", "named"), BAD_EDITS, ids=[repr(b[0])[:40] for b in BAD_EDITS])
def test_a_bad_edit_is_refused_with_a_clear_message_and_changes_nothing(
    api, people, fields, named
):
    ticket = ticket_in(Status.ANALYSING, people=people)
    before = snapshot(ticket)

    response = api["owner"].patch(f"/tickets/{ticket.key}",
                                  {"version": ticket.version, "fields": fields})

    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "invalid_field"
    assert named in response.json()["message"]
    assert snapshot(ticket) == before


BAD_ACTIONS = [
    ("triage", {"assignee": "developer"}, "cannot be the assignee"),
    ("triage", {"assignee": "nobody-here"}, "nobody-here"),
    ("triage", {"assignee": True}, "assignee"),
    ("triage", {"assignee": "owner", "colour": "red"}, "colour"),
    ("triage", {"assignee": "owner", "priority": "p0"}, "priority"),
    ("dismiss", {"reason": 42}, "reason"),
]


@pytest.mark.parametrize(("action", "fields", "named"), BAD_ACTIONS)
def test_a_bad_action_is_refused_with_a_clear_message_and_changes_nothing(
    api, people, action, fields, named
):
    ticket = ticket_in(Status.NEW, people=people)
    fields = {k: people[v].username if k == "assignee" and v in people else v
              for k, v in fields.items()}
    before = snapshot(ticket)

    response = api["duty"].act(ticket.key, action, version=ticket.version, **fields)

    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "invalid_field"
    assert named in response.json()["message"]
    assert snapshot(ticket) == before


def test_a_plan_with_an_overlong_fix_version_is_refused(api, people):
    ticket = ticket_in(Status.PLANNING, people=people)
    before = snapshot(ticket)

    response = api["owner"].act(ticket.key, "propose_plan", version=ticket.version,
                                **{**PLANS["code_fix"], "fix_version": "2." * 30})

    assert (response.status_code, response.json()["code"]) == (422, "invalid_field")
    assert "fix version" in response.json()["message"]
    assert snapshot(ticket) == before


def test_an_action_that_does_not_exist_is_refused(api, people):
    ticket = ticket_in(Status.NEW, people=people)

    response = api["duty"].act(ticket.key, "fly", version=ticket.version)

    assert (response.status_code, response.json()["code"]) == (409, "transition_refused")
    assert "fly" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"colour": "red"}, "colour"),
        ({"impact": "catastrophic"}, "impact"),
        ({"title": ""}, "title"),
        ({"occurred_at": "last tuesday"}, "occurred_at"),
        ({"submitter_name": "名" * 101}, "submitter_name"),
        ({"alert_level": "critical" * 10}, "alert_level"),
    ],
)
def test_a_bad_registration_is_refused_and_files_nothing(api, body, named):
    registration = {"title": "无法登录", "impact": "few_users", "urgency": "low", **body}

    response = api["duty"].post("/tickets", registration)

    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "invalid_input"
    # The message names the field as people call it; the details by its code.
    assert named.replace("_", " ") in response.json()["message"]
    assert f"payload.{named}" in [e["field"] for e in response.json()["details"]["errors"]]
    assert not Ticket.objects.exists()


def test_text_with_a_nul_character_is_refused_on_every_database(api, people):
    # PostgreSQL cannot store NUL in text; SQLite can. The API refuses it on both.
    ticket = ticket_in(Status.IN_PROGRESS, people=people)
    before = snapshot(ticket)

    responses = [
        api["owner"].post(f"/tickets/{ticket.key}/comments", {"body": "a\x00b"}),
        api["owner"].post(f"/tickets/{ticket.key}/worklog", step("ls\x00")),
        api["owner"].patch(f"/tickets/{ticket.key}",
                           {"version": ticket.version, "fields": {"analysis_notes": "\x00"}}),
        api["owner"].act(ticket.key, "escalate", version=ticket.version, reason="\x00"),
    ]

    for response in responses:
        assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    assert snapshot(ticket) == before


def test_a_blank_title_is_refused(api):
    response = api["submitter"].post(
        "/tickets", {"title": "   ", "impact": "few_users", "urgency": "low"})

    assert (response.status_code, response.json()["code"]) == (422, "invalid_field")
    assert response.json()["message"] == "The title is required."
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not a cursor!"},
        {"cursor": "WyJhIl0"},  # a well-formed cursor holding ["a"]
        {"cursor": "WzFlMzBd"},  # [1e30]
        {"cursor": "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTld"},  # [999999999999999999999999999]
        {"order": "title"},
        {"priority": "critical"},
    ],
)
def test_bad_list_parameters_are_refused(api, people, params):
    TicketFactory(by=people["submitter"])

    response = api["duty"].get("/tickets", **params)

    # Refused by the document's own values (invalid_input) or by the service (invalid_field).
    assert response.status_code == 422
    assert response.json()["code"] in ("invalid_input", "invalid_field")


# Who is calling -------------------------------------------------------------------------------


def test_callers_without_credentials_are_refused(db):
    anonymous = Client()
    wrong_token = Client(HTTP_AUTHORIZATION="Bearer ops_not-a-real-token")

    for client in (anonymous, wrong_token):
        listing = client.get("/api/v1/tickets")
        filing = client.post("/api/v1/tickets", {"title": "x", "impact": "none", "urgency": "low"},
                             content_type="application/json")
        for response in (listing, filing):
            assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
    assert not Ticket.objects.exists()


def test_a_revoked_token_is_refused(people):
    token, raw = create_api_token(user=people["submitter"], name="script")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/tickets").status_code == 200

    revoke_api_token(token=token)

    response = client.get("/api/v1/tickets")
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_a_browser_session_needs_the_csrf_token_to_write(people):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people["submitter"])
    registration = report(title="无法登录", impact="few_users", urgency="low")

    assert browser.get("/api/v1/tickets").status_code == 200
    forged = browser.post("/api/v1/tickets", registration, content_type="application/json")

    assert (forged.status_code, forged.json()["code"]) == (403, "csrf_failed")
    assert not Ticket.objects.exists()

    # The same request with the token from the CSRF cookie goes through.
    request = RequestFactory().get("/")
    header = get_token(request)
    browser.cookies[settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
    genuine = browser.post("/api/v1/tickets", registration, content_type="application/json",
                           HTTP_X_CSRFTOKEN=header)

    assert genuine.status_code == 201, genuine.json()
    assert genuine.json()["channel"] == "web"
