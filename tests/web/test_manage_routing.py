"""The routing rules page (/manage/routing/): rules in the order they are tried, conditions
picked from lists, moved up and down, refused in words, and a tester that says which rule would
take a ticket as the routing service itself would."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.utils import translation

from opsdesk.accounts.models import ModuleSupport
from opsdesk.accounts.roles import Role
from opsdesk.routing.models import AssignTo, RoutingRule
from tests.factories import report
from tests.web.conftest import text

DEFAULTS = ["urgent-high-to-module-owner", "medium-low-to-support"]


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, display_name="管理员")


def names():
    return list(RoutingRule.objects.values_list("name", flat=True))


def test_only_administrators_open_the_rules(people, browser_as):
    rule = RoutingRule.objects.first()
    for who in ("duty", "owner", "submitter"):
        client = browser_as(people[who])
        assert client.get("/manage/routing/").status_code == 403
        assert client.get("/manage/routing/new/").status_code == 403
        assert client.post("/manage/routing/new/", {"name": "x"}).status_code == 403
        assert client.post(f"/manage/routing/{rule.pk}/move",
                           {"direction": "down"}).status_code == 403
        assert client.post(f"/manage/routing/{rule.pk}/delete").status_code == 403
    assert names() == DEFAULTS


@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", ["紧急", "模块负责人"]), ("en", ["Urgent, High", "The module&#x27;s owner"])])
def test_the_rules_read_in_order_with_their_conditions_in_words(
        admin, browser_as, language, words):
    page = text(browser_as(admin, language).get("/manage/routing/"))
    assert page.index(DEFAULTS[0]) < page.index(DEFAULTS[1])
    assert all(word in page for word in words)
    assert '["urgent"' not in page and "module_owner" not in page


def test_a_rule_is_made_from_lists_and_is_on_record(admin, people, payment, browser_as):
    client = browser_as(admin, "en")
    form = text(client.get("/manage/routing/new/"))
    assert "Monitoring alert" in form and "支付模块" in form and "王磊" in form
    assert "孙丽" not in form  # a submitter may not be given tickets
    response = client.post("/manage/routing/new/", {
        "name": "payment-alerts", "enabled": "on", "priorities": ["high", "urgent"],
        "source_kinds": ["alert"], "problem_types": ["environment"],
        "modules": [payment.pk], "assign_to": AssignTo.USER, "user": people["owner"].pk})
    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="payment-alerts")
    assert rule.priorities == ["urgent", "high"] and rule.source_kinds == ["alert"]
    assert rule.problem_types == ["environment"] and list(rule.modules.all()) == [payment]
    assert names()[-1] == "payment-alerts" and rule.user == people["owner"]
    assert LogEntry.objects.get(object_id=str(rule.pk)).action_flag == ADDITION


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_rule_naming_nobody_is_refused_in_words(admin, browser_as, language):
    response = browser_as(admin, language).post("/manage/routing/new/", {
        "name": "to-someone", "enabled": "on", "assign_to": AssignTo.USER})
    assert response.status_code == 422
    with translation.override(language):
        expected = translation.gettext("Name the person this rule assigns to.")
    assert expected in text(response)
    assert "to-someone" not in names()


def test_a_person_without_the_role_is_not_accepted(admin, people, browser_as):
    response = browser_as(admin, "en").post("/manage/routing/new/", {
        "name": "to-submitter", "assign_to": AssignTo.USER, "user": people["submitter"].pk})
    assert response.status_code == 422 and "Select a valid choice" in text(response)


def test_a_name_in_chinese_or_taken_is_refused(admin, browser_as):
    client = browser_as(admin)
    response = client.post("/manage/routing/new/", {"name": "支付告警",
                                                     "assign_to": AssignTo.DUTY_TRIAGE})
    assert response.status_code == 422
    response = client.post("/manage/routing/new/", {"name": DEFAULTS[0],
                                                     "assign_to": AssignTo.DUTY_TRIAGE})
    assert response.status_code == 422 and "已存在" in text(response)


def test_rules_move_up_and_down(admin, browser_as):
    client = browser_as(admin, "en")
    second = RoutingRule.objects.get(name=DEFAULTS[1])
    assert client.post(f"/manage/routing/{second.pk}/move", {"direction": "up"}).status_code == 302
    assert names() == DEFAULTS[::-1]
    assert list(RoutingRule.objects.values_list("order", flat=True)) == [10, 20]
    client.post(f"/manage/routing/{second.pk}/move", {"direction": "up"})
    assert names() == DEFAULTS[::-1]  # already first
    client.post(f"/manage/routing/{second.pk}/move", {"direction": "down"})
    assert names() == DEFAULTS


def test_editing_and_removing_a_rule(admin, browser_as):
    client = browser_as(admin, "en")
    rule = RoutingRule.objects.get(name=DEFAULTS[1])
    page = text(client.get(f"/manage/routing/{rule.pk}/"))
    assert re.search(r'value="medium"[^>]*checked', page)
    assert not re.search(r'value="urgent"[^>]*checked', page)
    response = client.post(f"/manage/routing/{rule.pk}/", {
        "name": rule.name, "priorities": ["low"], "assign_to": AssignTo.SUPPORT_ENGINEER,
        "requires_module": "on"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.priorities == ["low"] and not rule.enabled
    assert "Changed enabled and priorities." in LogEntry.objects.get(
        object_id=str(rule.pk)).get_change_message()
    client.post(f"/manage/routing/{rule.pk}/delete")
    assert names() == DEFAULTS[:1]


def test_the_tester_says_which_rule_takes_a_described_ticket_and_why_not_the_others(
        admin, people, payment, browser_as):
    ModuleSupport.objects.create(module=payment, problem_type="data", engineer=people["support"])
    client = browser_as(admin, "en")
    page = text(client.get("/manage/routing/", {
        "test": "1", "priority": "low", "source_kind": "user_report", "problem_type": "data",
        "module": payment.pk}))
    assert "Rule medium-low-to-support would take it and give it to 李娜." in page
    assert "The priority is Low; the rule takes Urgent, High." in page
    page = text(client.get("/manage/routing/", {
        "test": "1", "priority": "urgent", "source_kind": "alert", "problem_type": ""}))
    assert "No rule would take it: it would wait for the duty engineer to triage." in page
    assert "The module is not known; the rule takes only tickets with one." in page


def test_the_tester_agrees_with_routing_for_a_filed_ticket(
        admin, people, payment, browser_as, api):
    RoutingRule.objects.create(name="alerts-to-ops-owner", order=5, source_kinds=["alert"],
                               assign_to=AssignTo.USER, user=people["support"])
    filed = api["submitter"].post("/tickets", report(
        impact="all_users", urgency="immediate", module="payment")).json()
    assert filed["assignee"]["username"] == people["owner"].username
    page = text(browser_as(admin).get("/manage/routing/", {
        "test": "1", "key": filed["key"], "priority": "low", "source_kind": "alert"}))
    with translation.override("zh-hans"):
        source = translation.gettext("User report")
    assert filed["key"] in page and "urgent-high-to-module-owner" in page and "王磊" in page
    assert source in page  # the first rule wants alerts; this is a user's report


def test_an_unknown_ticket_key_is_named(admin, browser_as):
    response = browser_as(admin, "en").get("/manage/routing/", {
        "test": "1", "key": "OPS-999999", "priority": "low", "source_kind": "alert"})
    assert response.status_code == 422 and "No such ticket: OPS-999999." in text(response)
