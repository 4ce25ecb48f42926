"""The modules page (/manage/modules/): modules with their owners and support engineers per
problem type, picked among the people holding those roles, refused in words otherwise."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.utils import translation

from opsdesk.accounts import modules
from opsdesk.accounts.models import Module, ModuleSupport
from opsdesk.accounts.roles import Role
from opsdesk.routing.models import AssignTo, RoutingRule
from tests.factories import report
from tests.web.conftest import text


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, display_name="管理员")


def test_only_administrators_open_the_modules(people, payment, browser_as):
    for who in ("owner", "support", "submitter"):
        client = browser_as(people[who])
        assert client.get("/manage/modules/").status_code == 403
        assert client.get(f"/manage/modules/{payment.pk}/").status_code == 403
        assert client.post("/manage/modules/new/", {"code": "x"}).status_code == 403
        assert client.post(f"/manage/modules/{payment.pk}/delete").status_code == 403
    assert Module.objects.count() == 1


@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", ["代码", "数据", "王磊"]), ("en", ["Code", "Data", "王磊"])])
def test_modules_read_with_owner_and_support_per_problem_type(
        admin, people, payment, browser_as, language, words):
    ModuleSupport.objects.create(module=payment, problem_type="data", engineer=people["support"])
    page = text(browser_as(admin, language).get("/manage/modules/"))
    assert "支付模块" in page and "李娜" in page and "王磊" in page
    with translation.override(language):
        assert str(translation.gettext("Data")) in page
    form = text(browser_as(admin, language).get(f"/manage/modules/{payment.pk}/"))
    assert all(word in form for word in words)
    assert "孙丽" not in form and "张伟" not in form  # neither an owner nor a support engineer


def test_a_module_is_made_with_its_people_and_routing_uses_them(
        admin, people, browser_as, api):
    response = browser_as(admin, "en").post("/manage/modules/new/", {
        "code": "billing", "name": "账单模块", "owner": people["owner"].pk,
        "support_data": [people["support"].pk], "support_code": [people["support"].pk]})
    assert response.status_code == 302
    module = Module.objects.get(code="billing")
    assert module.owner == people["owner"]
    assert set(module.support.values_list("problem_type", flat=True)) == {"data", "code"}
    assert LogEntry.objects.get(object_id=str(module.pk)).action_flag == ADDITION
    filed = api["submitter"].post("/tickets", report(
        impact="all_users", urgency="immediate", module="billing")).json()
    assert filed["assignee"]["username"] == people["owner"].username


def test_changing_the_owner_and_support_is_on_record(admin, people, payment, make_user,
                                                     browser_as):
    other = make_user(Role.OWNER, display_name="吴刚")
    ModuleSupport.objects.create(module=payment, problem_type="data", engineer=people["support"])
    response = browser_as(admin, "en").post(f"/manage/modules/{payment.pk}/", {
        "code": "payment", "name": "支付模块", "owner": other.pk, "support_code": [
            people["support"].pk]})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.owner == other
    assert list(payment.support.values_list("problem_type", flat=True)) == ["code"]
    entry = LogEntry.objects.get(object_id=str(payment.pk))
    assert entry.action_flag == CHANGE and entry.get_change_message() == "Changed owner."


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_owner_who_lost_the_role_is_refused_in_words(
        admin, people, payment, browser_as, language):
    people["owner"].groups.clear()
    people["owner"].__dict__.pop("roles", None)
    response = browser_as(admin, language).post(f"/manage/modules/{payment.pk}/", {
        "code": "payment", "name": "支付模块", "owner": people["owner"].pk})
    assert response.status_code == 422
    with translation.override(language):
        expected = translation.gettext("Select a valid choice. That choice is not one of the "
                                       "available choices.")
    assert expected in text(response)


def test_a_taken_code_is_refused(admin, people, payment, browser_as):
    response = browser_as(admin).post("/manage/modules/new/", {
        "code": "payment", "name": "另一个", "owner": people["owner"].pk})
    assert response.status_code == 422 and "已存在" in text(response)


def test_a_module_with_tickets_or_rules_is_not_removed(admin, people, payment, browser_as, api):
    client = browser_as(admin, "en")
    rule = RoutingRule.objects.create(name="payment-only", assign_to=AssignTo.MODULE_OWNER)
    rule.modules.add(payment)
    response = client.post(f"/manage/modules/{payment.pk}/delete", follow=True)
    assert "支付模块 is a condition of payment-only" in text(response)
    rule.delete()
    api["submitter"].post("/tickets", report(module="payment"))
    response = client.post(f"/manage/modules/{payment.pk}/delete", follow=True)
    assert "支付模块 has 1 ticket filed under it and stays" in text(response)
    assert Module.objects.filter(pk=payment.pk).exists() and not LogEntry.objects.exists()


def test_a_module_without_tickets_is_removed(admin, payment, browser_as):
    assert browser_as(admin, "en").post(f"/manage/modules/{payment.pk}/delete").status_code == 302
    assert not Module.objects.exists()


def test_the_service_names_a_person_without_the_role(admin, people, payment):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        modules.save_module(by=admin, module=payment, support={"data": [people["developer"]]})
    assert refused.value.message_dict == {
        "support_data": ["赵强 does not hold the role Support engineer (C)."]}
    assert not payment.support.exists()
