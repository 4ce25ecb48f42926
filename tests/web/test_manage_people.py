"""The people page (/manage/people/): people found by name or role, added and changed with
their roles; a role taken away, or a person deactivated, only once nobody counts on them for
work that needs it, the refusal naming that work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.utils import timezone, translation

from opsdesk.accounts.models import ModuleSupport, User
from opsdesk.accounts.roles import Role
from opsdesk.routing.models import DutyShift
from tests.factories import report
from tests.web.conftest import text


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, display_name="管理员")


def form_of(user, *roles, **changes):
    return {"display_name": user.display_name, "email": user.email,
            "department": user.department, "phone": user.phone, "is_active": "on",
            "roles": list(roles), **changes}


def test_only_administrators_open_the_people(people, browser_as):
    for who in ("duty", "head", "submitter"):
        client = browser_as(people[who])
        assert client.get("/manage/people/").status_code == 403
        assert client.post(f"/manage/people/{people[who].pk}/",
                           form_of(people[who], Role.ADMIN)).status_code == 403
        assert client.post("/manage/people/new/", {"username": "x"}).status_code == 403
    assert not people["submitter"].has_role(Role.ADMIN)
    assert not User.objects.filter(username="x").exists()


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "模块负责人"),
                                                 ("en", "Module owner (B)")])
def test_people_are_listed_with_their_roles_and_found_by_role(
        admin, people, browser_as, language, label):
    client = browser_as(admin, language)
    page = text(client.get("/manage/people/"))
    assert "王磊" in page and "孙丽" in page and label in page
    owners = text(client.get("/manage/people/", {"role": Role.OWNER}))
    assert "王磊" in owners and "孙丽" not in owners
    found = text(client.get("/manage/people/", {"text": "运营部"}))
    assert "孙丽" in found and "王磊" not in found


def test_a_new_person_with_roles_is_on_record_and_can_be_given_work(admin, browser_as):
    client = browser_as(admin, "en")
    response = client.post("/manage/people/new/", {
        "username": "wufang", "display_name": "吴芳", "email": "wufang@example.com",
        "department": "技术部", "is_active": "on", "roles": [Role.DUTY, Role.SUPPORT]})
    assert response.status_code == 302
    user = User.objects.get(username="wufang")
    assert user.roles == {Role.DUTY, Role.SUPPORT} and not user.has_usable_password()
    assert LogEntry.objects.get(object_id=str(user.pk)).action_flag == ADDITION
    assert "吴芳" in text(client.get("/manage/roster/"))


def test_a_role_is_given_and_taken_when_no_work_needs_it(admin, people, browser_as):
    client = browser_as(admin, "en")
    developer = people["developer"]
    client.post(f"/manage/people/{developer.pk}/", form_of(developer, Role.DEVELOPER, Role.OPS))
    developer = User.objects.get(pk=developer.pk)
    assert developer.roles == {Role.DEVELOPER, Role.OPS}
    client.post(f"/manage/people/{developer.pk}/", form_of(developer, Role.OPS))
    assert User.objects.get(pk=developer.pk).roles == {Role.OPS}
    assert [e.get_change_message() for e in LogEntry.objects.filter(action_flag=CHANGE)] == [
        "Changed groups.", "Changed groups."]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_owner_keeps_the_role_while_owning_a_module(
        admin, people, payment, browser_as, language):
    owner = people["owner"]
    response = browser_as(admin, language).post(f"/manage/people/{owner.pk}/",
                                                form_of(owner, Role.SUPPORT))
    assert response.status_code == 422
    with translation.override(language):
        expected = translation.gettext(
            "%(person)s %(work)s: hand that over before taking away the role %(role)s.") % {
                "person": "王磊",
                "work": translation.gettext("owns %(modules)s") % {"modules": "支付模块"},
                "role": Role.OWNER.label}
    assert expected in text(response).replace("&#x27;", "'")
    assert User.objects.get(pk=owner.pk).roles == {Role.OWNER}


def test_work_needing_a_role_is_named_when_taking_it_or_deactivating(
        admin, people, payment, browser_as, api):
    client = browser_as(admin, "en")
    support, duty = people["support"], people["duty"]
    ModuleSupport.objects.create(module=payment, problem_type="data", engineer=support)
    DutyShift.objects.create(starts_at=timezone.now() + timedelta(days=1),
                             ends_at=timezone.now() + timedelta(days=1, hours=8), engineer=duty)
    page = text(client.post(f"/manage/people/{support.pk}/", form_of(support, Role.DEVELOPER)))
    assert "李娜 supports 支付模块: hand that over before taking away the role Support" in page
    page = text(client.post(f"/manage/people/{duty.pk}/", form_of(duty, is_active="")))
    assert "张伟 is on 1 duty shift to come: hand that over" in page
    assert User.objects.get(pk=duty.pk).is_active
    filed = api["submitter"].post("/tickets", report(
        impact="all_users", urgency="immediate", module="payment")).json()
    assert filed["assignee"]["username"] == people["owner"].username
    payment.owner = people["head"]
    payment.save()
    owner = people["owner"]
    page = text(client.post(f"/manage/people/{owner.pk}/", form_of(owner, Role.HEAD)))
    assert ("王磊 holds 1 open ticket: hand that over first; only module owners and support "
            "engineers may be given tickets.") in page


def test_an_administrator_cannot_take_away_her_own_role(admin, browser_as):
    response = browser_as(admin, "en").post(f"/manage/people/{admin.pk}/", form_of(admin))
    assert response.status_code == 422
    assert "You would lose the administration pages yourself" in text(response)
    assert User.objects.get(pk=admin.pk).has_role(Role.ADMIN)


def test_a_taken_username_and_a_bad_email_are_refused_in_chinese(admin, people, browser_as):
    client = browser_as(admin)
    response = client.post("/manage/people/new/", {
        "username": "wufang", "email": "not-an-address", "is_active": "on"})
    assert response.status_code == 422 and "输入一个有效的 Email 地址。" in text(response)
    response = client.post("/manage/people/new/", {
        "username": people["owner"].username, "is_active": "on"})
    assert response.status_code == 422 and "已存在一位使用该名字的用户。" in text(response)


def test_a_person_s_page_says_what_they_are_counted_on_for(admin, people, payment, browser_as):
    ModuleSupport.objects.create(module=payment, problem_type="code", engineer=people["owner"])
    page = text(browser_as(admin, "en").get(f"/manage/people/{people['owner'].pk}/"))
    assert "王磊 is counted on for: owns 支付模块." in page
    assert "is counted on for" not in text(browser_as(admin, "en").get(
        f"/manage/people/{people['developer'].pk}/"))
