"""Time taken comes from the record: each work-log step carries its duration and who ran it; the
resolution report sums them per person and overall over every round of work, beside the figure
reported at each resolution, which may be corrected but never replaced unseen."""

from __future__ import annotations

import re

import pytest

from opsdesk.tickets.choices import Status
from tests.factories import PLANS, fields_for, ticket_in

pytestmark = pytest.mark.django_db

LATER = "2099-01-01T12:00:00+08:00"


def step(api, who, key, minutes, command="systemctl restart nginx"):
    response = api[who].post(f"/tickets/{key}/worklog",
                             {"command": command, "duration_minutes": minutes})
    assert response.status_code == 201, response.json()
    return response.json()


def resolve(api, people, key, minutes):
    response = api["owner"].act(key, "resolve", **{**fields_for("resolve", people),
                                                   "time_taken_minutes": minutes})
    assert response.status_code == 200, response.json()


def test_time_is_summed_per_person_over_every_round_beside_each_reported_figure(api, people):
    key = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart",
                    collaborators=("ops",)).key
    assert step(api, "owner", key, 30)["duration_minutes"] == 30
    step(api, "ops", key, 15)
    resolve(api, people, key, 50)
    # Not fixed: a second round of work, reported again.
    version = api["submitter"].read(key)["version"]
    api["submitter"].post(f"/tickets/{key}/verify",
                          {"version": version, "accepted": False, "reason": "还是慢"})
    api["owner"].act(key, "propose_plan", **PLANS["service_restart"],
                     expected_completion_at=LATER)
    step(api, "ops", key, 20)
    step(api, "owner", key, 10)
    resolve(api, people, key, 40)

    spent = api["owner"].get(f"/tickets/{key}/time-taken").json()

    assert spent["logged_minutes"] == 75
    assert [(p["person"]["username"], p["minutes"]) for p in spent["by_person"]] == [
        (people["owner"].username, 40), (people["ops"].username, 35)]
    assert spent["steps_without_duration"] == 0
    assert [(r["round"], r["minutes"], r["corrected"]) for r in spent["reported"]] == [
        (1, 50, False), (2, 40, False)]
    assert spent["reported_minutes"] == 40
    rounds = [e for e in api["owner"].timeline(key) if e["data"].get("action") == "resolve"
              and e["kind"] == "transition"]
    assert [(e["data"]["round"], e["data"]["time_taken"]) for e in rounds] == [
        (1, {"reported_minutes": 50, "logged_minutes": 45}),
        (2, {"reported_minutes": 40, "logged_minutes": 75})]
    # The second figure replaced the first in plain sight.
    assert rounds[1]["data"]["changed"]["time_taken_minutes"] == {"from": 50, "to": 40}


def test_each_resolution_reports_its_figure_anew(api, people):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people).key
    version = api["submitter"].read(key)["version"]
    api["submitter"].post(f"/tickets/{key}/verify",
                          {"version": version, "accepted": False, "reason": "还是不行"})
    api["owner"].act(key, "propose_plan", **PLANS["code_fix"], expected_completion_at=LATER)
    api["head"].act(key, "approve")

    fields = {k: v for k, v in fields_for("resolve", people).items()
              if k != "time_taken_minutes"}
    refused = api["owner"].act(key, "resolve", **fields)

    # The first round's 95 minutes are not carried over unseen.
    assert refused.status_code == 422
    assert refused.json()["details"]["missing"] == ["time_taken_minutes"]


def test_the_reported_figure_is_corrected_in_plain_sight(api, people):
    key = ticket_in(Status.AWAITING_VERIFICATION, people=people).key
    owner = api["owner"]
    assert "time_taken_minutes" in owner.read(key)["editable_fields"]

    corrected = owner.patch(f"/tickets/{key}", {"version": owner.read(key)["version"],
                                                "fields": {"time_taken_minutes": 120}})
    cleared = owner.patch(f"/tickets/{key}", {"version": owner.read(key)["version"],
                                              "fields": {"time_taken_minutes": None}})

    assert corrected.status_code == 200, corrected.json()
    assert cleared.status_code == 422
    spent = owner.get(f"/tickets/{key}/time-taken").json()
    assert [(r["round"], r["minutes"], r["corrected"]) for r in spent["reported"]] == [
        (1, 95, False), (1, 120, True)]
    assert spent["reported_minutes"] == 120


def test_a_step_without_its_duration_is_refused(api, people):
    key = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart").key

    missing = api["owner"].post(f"/tickets/{key}/worklog", {"command": "uptime"})
    negative = api["owner"].post(f"/tickets/{key}/worklog",
                                 {"command": "uptime", "duration_minutes": -5})

    assert missing.status_code == negative.status_code == 422
    assert api["owner"].get(f"/tickets/{key}/worklog").json() == []


def test_the_submitter_sees_the_total_and_each_rounds_figure_but_no_names(api, people,
                                                                          browser_as):
    key = ticket_in(Status.IN_PROGRESS, people=people, plan="service_restart",
                    collaborators=("ops",)).key
    step(api, "owner", key, 30)
    step(api, "ops", key, 15)  # internal, as steps are unless shown
    resolve(api, people, key, 50)

    spent = api["submitter"].get(f"/tickets/{key}/time-taken").json()
    page = browser_as(people["submitter"], "en").get(f"/tickets/{key}/").content.decode()
    staff_page = browser_as(people["owner"], "en").get(f"/tickets/{key}/").content.decode()

    assert spent["logged_minutes"] == 45 and spent["by_person"] == []
    assert [(r["round"], r["minutes"], r["by"]) for r in spent["reported"]] == [(1, 50, None)]
    assert spent["reported_minutes"] == 50
    logged = re.search(r"<dd data-time-logged>(.*?)</dd>", page, re.S).group(1)
    assert "45 minutes" in logged and people["ops"].display_name not in logged
    assert people["owner"].display_name not in logged
    staff_logged = re.search(r"<dd data-time-logged>(.*?)</dd>", staff_page, re.S).group(1)
    assert people["ops"].display_name in staff_logged
