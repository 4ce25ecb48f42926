"""People are put where their role allows, whatever the door: a module's owner holds the owner
role, support engineers the support role, the duty roster the duty role, a routing rule's
person may be an assignee, and a rule's priorities and sources exist. The admin refuses the
rest with a message naming the problem, never a constraint's name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from opsdesk.accounts.models import Module, ModuleSupport
from opsdesk.accounts.roles import Role
from opsdesk.routing.models import AssignTo, DutyShift, RoutingRule


@pytest.fixture
def admin_browser(make_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user(Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def _errors(response) -> str:
    assert response.status_code == 200, response.status_code  # the form again, not a redirect
    page = response.content.decode()
    assert "errorlist" in page
    return page


def _shift_form(engineer, backup=None, hours=8):
    start = timezone.localtime(timezone.now())
    end = start + timedelta(hours=hours)
    return {"starts_at_0": f"{start:%Y-%m-%d}", "starts_at_1": f"{start:%H:%M:%S}",
            "ends_at_0": f"{end:%Y-%m-%d}", "ends_at_1": f"{end:%H:%M:%S}",
            "engineer": engineer.pk, "backup": backup.pk if backup else ""}


def test_the_admin_refuses_a_submitter_as_module_owner(admin_browser, people):
    form = {"code": "payment", "name": "支付模块", "description": "",
            "owner": people["submitter"].pk,
            "support-TOTAL_FORMS": "0", "support-INITIAL_FORMS": "0"}
    page = _errors(admin_browser.post("/admin/accounts/module/add/", form))
    assert "孙丽 does not hold the role Module owner (B)." in page
    assert not Module.objects.exists()
    form["owner"] = people["owner"].pk
    assert admin_browser.post("/admin/accounts/module/add/", form).status_code == 302


def test_the_admin_refuses_a_support_engineer_without_the_role(admin_browser, people, payment):
    form = {"code": payment.code, "name": payment.name, "description": "",
            "owner": people["owner"].pk,
            "support-TOTAL_FORMS": "1", "support-INITIAL_FORMS": "0",
            "support-0-problem_type": "code", "support-0-engineer": people["developer"].pk}
    page = _errors(admin_browser.post(f"/admin/accounts/module/{payment.pk}/change/", form))
    assert "赵强 does not hold the role Support engineer (C)." in page
    assert not ModuleSupport.objects.exists()


def test_the_duty_roster_takes_only_duty_engineers(admin_browser, people):
    page = _errors(admin_browser.post("/admin/routing/dutyshift/add/",
                                      _shift_form(people["submitter"], backup=people["ops"])))
    assert "孙丽 does not hold the role Duty engineer (A)." in page
    assert "陈静 does not hold the role Duty engineer (A)." in page
    assert not DutyShift.objects.exists()
    ok = admin_browser.post("/admin/routing/dutyshift/add/", _shift_form(people["duty"]))
    assert ok.status_code == 302


def test_a_shift_ending_before_it_starts_is_named_plainly(admin_browser, people):
    form = _shift_form(people["duty"], hours=-2)
    page = _errors(admin_browser.post("/admin/routing/dutyshift/add/", form))
    # Both moments named, as the roster page names them (routing.roster.shift_problems).
    end, start = (f"{form[f'{name}_0']} {form[f'{name}_1'][:5]}"
                  for name in ("ends_at", "starts_at"))
    assert f"The shift ends ({end}) before it starts ({start})" in page
    assert "shift_ends_after_start" not in page


def test_a_routing_rule_names_only_priorities_and_sources_that_exist(admin_browser):
    # The admin offers the codes as lists to tick: one that does not exist is not a choice.
    form = {"name": "p0-to-dba", "order": "1", "enabled": "on", "priorities": ["P0"],
            "source_kinds": ["alert", "pager"], "assign_to": AssignTo.DUTY_TRIAGE, "user": ""}
    page = _errors(admin_browser.post("/admin/routing/routingrule/add/", form))
    assert "Select a valid choice. P0 is not one of the available choices." in page
    assert "Select a valid choice. pager is not one of the available choices." in page
    assert not RoutingRule.objects.filter(name="p0-to-dba").exists()
    # Any other door (a service, an import) meets the model's own check, naming the codes.
    rule = RoutingRule(name="p0-to-dba", priorities=["P0"], source_kinds=["alert", "pager"],
                       assign_to=AssignTo.DUTY_TRIAGE)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert refused.value.message_dict["priorities"] == [
        "There is no P0; the codes are urgent, high, medium, low."]
    assert refused.value.message_dict["source_kinds"][0].startswith("There is no pager;")
    rule.priorities, rule.source_kinds = "urgent", []
    with translation.override("en"), pytest.raises(ValidationError, match="A list of codes"):
        rule.full_clean()


def test_a_rule_assigns_only_to_someone_who_may_be_assignee(people):
    rule = RoutingRule(name="to-the-head", assign_to=AssignTo.USER, user=people["head"])
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "does not hold the role Module owner (B) / Support engineer (C)" in str(
        refused.value.message_dict["user"])
    rule.user = people["support"]
    rule.full_clean()
    rule.assign_to = AssignTo.MODULE_OWNER
    with pytest.raises(ValidationError, match="names one"):
        rule.full_clean()
    with pytest.raises(ValidationError, match="Name the person"):
        RoutingRule(name="nobody", assign_to=AssignTo.USER).full_clean()


def test_a_deactivated_person_is_refused(people):
    people["owner"].is_active = False
    people["owner"].save()
    with pytest.raises(ValidationError, match="account is deactivated"):
        Module(code="crm", name="CRM", owner=people["owner"]).full_clean()


def test_the_reader_gets_the_message_in_their_language(people):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        Module(code="crm", name="CRM", owner=people["submitter"]).full_clean()
    # The role's name is already translated; the sentence follows with the catalogue.
    assert "模块负责人" in str(refused.value.message_dict["owner"])
