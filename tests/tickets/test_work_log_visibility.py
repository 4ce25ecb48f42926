"""Work-log steps are the department's business: the exact commands, hosts and output reach a
submitter only for a step recorded as shown to them."""

import importlib

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from opsdesk.tickets.models import TimelineEvent, WorkLogStep
from tests.factories import ticket_in

SECRET_STEP = {"command": "mysql -h 10.0.3.21 -u root -pHunter2 -e 'FLUSH HOSTS'",
               "target": "db-master-01", "output": "Query OK", "duration_minutes": 3}
SHOWN_STEP = {"command": "systemctl restart nginx", "target": "web-01", "output": "ok",
              "internal": False, "duration_minutes": 2}


def _browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _page(user, ticket):
    return _browser(user).get(f"/tickets/{ticket.key}/").content.decode()


def _record_both(api, people):
    ticket = ticket_in("in_progress", people=people, plan="service_restart")
    secret = api["owner"].post(f"/tickets/{ticket.key}/worklog", SECRET_STEP)
    shown = api["owner"].post(f"/tickets/{ticket.key}/worklog", SHOWN_STEP)
    assert (secret.status_code, shown.status_code) == (201, 201), secret.json()
    assert (secret.json()["internal"], shown.json()["internal"]) == (True, False)
    return ticket


def test_a_step_is_internal_unless_shown_to_the_submitter(api, people):
    ticket = _record_both(api, people)

    seen = api["submitter"].get(f"/tickets/{ticket.key}/worklog").json()
    assert [step["command"] for step in seen] == ["systemctl restart nginx"]
    timeline = str(api["submitter"].timeline(ticket.key))
    assert "Hunter2" not in timeline and "db-master-01" not in timeline
    assert "systemctl restart nginx" in timeline


def test_staff_see_every_step(api, people):
    ticket = _record_both(api, people)
    for who in ("owner", "duty", "head"):
        steps = api[who].get(f"/tickets/{ticket.key}/worklog").json()
        assert [s["target"] for s in steps] == ["db-master-01", "web-01"]
    kinds = [(e["kind"], e["internal"]) for e in api["owner"].timeline(ticket.key)
             if e["kind"] == "work_log"]
    assert kinds == [("work_log", True), ("work_log", False)]


def test_the_ticket_page_hides_internal_steps_from_the_submitter(api, people):
    ticket = _record_both(api, people)
    page = _page(people["submitter"], ticket)
    assert "Hunter2" not in page and "db-master-01" not in page
    assert "systemctl restart nginx" in page
    staff_page = _page(people["owner"], ticket)
    assert "Step executed (internal)" in staff_page and "Hunter2" in staff_page


def test_the_step_form_records_internal_steps_unless_shown(people):
    ticket = ticket_in("in_progress", people=people, plan="service_restart")
    owner = _browser(people["owner"])
    owner.post(f"/tickets/{ticket.key}/steps", {"command": "uptime", "kind": "shell",
                                                "outcome": "succeeded", "duration_minutes": "1"})
    owner.post(f"/tickets/{ticket.key}/steps", {"command": "df -h", "kind": "shell",
                                                "outcome": "succeeded", "shared": "on",
                                                "duration_minutes": "1"})
    steps = WorkLogStep.objects.filter(ticket=ticket).order_by("id")
    assert [(s.command, s.internal) for s in steps] == [("uptime", True), ("df -h", False)]


def test_steps_recorded_before_the_upgrade_become_internal(people, api):
    # The data step of the upgrade, run on today's tables: migrating the schema back and
    # forth inside the suite would leave it in a state that breaks the tests after it.
    ticket = ticket_in("in_progress", people=people, plan="service_restart")
    api["owner"].post(f"/tickets/{ticket.key}/worklog", SHOWN_STEP)
    # The models as the upgrade sees them (the append-only guard is today's, not theirs).
    before = MigrationLoader(connection).project_state(("tickets", "0012_work_log_internal"))
    before.apps.get_model("tickets", "TimelineEvent").objects.filter(
        kind="work_log").update(internal=False)
    upgrade = importlib.import_module("opsdesk.tickets.migrations.0012_work_log_internal")

    upgrade.hide_recorded_steps(before.apps, None)

    assert list(TimelineEvent.objects.filter(kind="work_log")
                .values_list("internal", flat=True)) == [True]
