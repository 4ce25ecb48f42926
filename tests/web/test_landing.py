"""Each role lands on the page it works from."""

import pytest

from opsdesk.accounts.roles import Role
from tests.web.conftest import text


@pytest.mark.parametrize(("role", "page"), [
    (Role.DUTY, "/tickets/?queue=unassigned"),
    (Role.OWNER, "/tickets/?queue=mine"),
    (Role.SUPPORT, "/tickets/?queue=mine"),
    (Role.DEVELOPER, "/tickets/?queue=mine"),
    (Role.OPS, "/tickets/?queue=mine"),
    (Role.HEAD, "/approvals/"),
    (Role.SUBMITTER, "/portal/"),
])
def test_each_role_lands_on_its_page(role, page, make_user, browser_as):
    response = browser_as(make_user(role)).get("/")
    assert response.status_code == 302
    assert response.url == page
    assert browser_as(make_user(role)).get(page).status_code == 200


def test_an_admin_lands_on_the_administration_hub_with_links_into_the_admin(
        make_user, browser_as):
    admin = make_user(is_staff=True, is_superuser=True)
    client = browser_as(admin)
    assert client.get("/").url == "/manage/"
    page = client.get("/manage/").content.decode()
    for admin_page in ("/manage/routing/", "/manage/roster/",
                       "/manage/sla/", "/manage/integrations/",
                       "/admin/notify/team/", "/manage/modules/"):
        assert admin_page in page


def test_staff_pages_are_closed_to_submitters(people, browser_as):
    client = browser_as(people["submitter"])
    refused = client.get("/tickets/")
    assert refused.status_code == 403 and "无权访问" in text(refused)
    assert client.get("/approvals/").status_code == 403
    assert client.get("/manage/").status_code == 403
    assert browser_as(people["owner"]).get("/approvals/").status_code == 403


def test_an_administrator_without_a_staff_account_is_not_sent_into_the_django_admin(
        make_user, browser_as):
    page = browser_as(make_user(Role.ADMIN)).get("/manage/").content.decode()
    assert "/manage/roster/" in page and "/manage/people/" in page
    assert "/admin/" not in page
