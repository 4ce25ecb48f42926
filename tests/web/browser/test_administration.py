"""The administration pages in a real browser: the roster's week (a gap filled from its link, a
shift given to another person by picking them), the routing tester, an SLA calendar's year and
a secret shown once, with no script error or CSP violation, in Chinese and at a phone's width."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from opsdesk.accounts.roles import Role
from opsdesk.routing.models import DutyShift
from opsdesk.sla.models import BusinessCalendar

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_administrator_plans_the_roster_and_reads_the_rules_and_calendar(
        people, payment, make_user, people_at_browsers):
    admin = make_user(Role.ADMIN, display_name="管理员")
    other = make_user(Role.DUTY, display_name="何敏")
    today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    shift = DutyShift.objects.create(starts_at=today, ends_at=today + timedelta(hours=12),
                                     engineer=people["duty"])
    browser = people_at_browsers(admin)
    browser.goto("/manage/")
    with browser.page.expect_navigation():
        browser.page.click("a[href='/manage/roster/']")
    browser.shot("roster")

    # Pick another person for the shift: the select submits itself.
    with browser.page.expect_navigation():
        browser.page.select_option(f"form[action='/manage/roster/{shift.pk}/pick'] select",
                                   str(other.pk))
    shift.refresh_from_db()
    assert shift.engineer == other
    assert "何敏" in browser.page.inner_text(".messages")

    # Fill the first gap from its link, then plan it for 张伟.
    with browser.page.expect_navigation():
        browser.page.locator(".roster .gap a").first.click()
    browser.page.select_option("#id_engineer", str(people["duty"].pk))
    with browser.page.expect_navigation():
        browser.page.click("#plan button[type=submit]")
    assert DutyShift.objects.count() == 2
    browser.shot("roster-filled")

    browser.goto("/manage/routing/?test=1&priority=urgent&source_kind=user_report"
                 f"&module={payment.pk}#tester")
    assert "王磊" in browser.page.inner_text(".verdict")
    browser.shot("routing-tester")

    calendar = BusinessCalendar.objects.get()
    browser.goto(f"/manage/sla/calendars/{calendar.pk}/?year=2026")
    assert browser.page.locator(".month").count() == 12
    with browser.page.expect_navigation():
        browser.page.click("a.day.holiday >> nth=0")
    assert browser.page.input_value("#id_day") == "2026-01-01"
    browser.shot("calendar")

    browser.goto("/manage/integrations/new/")
    browser.page.fill("#id_name", "prometheus")
    browser.page.check("input[name=kind][value=alertmanager]")
    with browser.page.expect_navigation():
        browser.page.click("form button[type=submit].primary")
    assert browser.page.inner_text("code.secret").startswith("whk_")
    browser.shot("secret")


@pytest.mark.parametrize("path", ["/manage/roster/", "/manage/routing/", "/manage/sla/",
                                  "/manage/modules/", "/manage/people/"])
def test_the_pages_fit_a_phone(people, payment, make_user, people_at_browsers, path):
    browser = people_at_browsers(make_user(Role.ADMIN, display_name="管理员"))
    browser.page.set_viewport_size({"width": 390, "height": 844})
    browser.goto(path)
    overflow = browser.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    browser.shot("phone" + path.replace("/", "-").rstrip("-"))
    assert overflow <= 0, overflow


def test_a_person_is_dragged_onto_a_shift_and_onto_a_gap(people, make_user,
                                                          people_at_browsers):
    admin = make_user(Role.ADMIN, display_name="管理员")
    other = make_user(Role.DUTY, display_name="何敏")
    today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    shift = DutyShift.objects.create(starts_at=today, ends_at=today + timedelta(hours=12),
                                     engineer=people["duty"])
    browser = people_at_browsers(admin)
    browser.goto("/manage/roster/")
    with browser.page.expect_navigation():
        browser.page.drag_and_drop(f"[data-engineer='{other.pk}']",
                                   f"form[action='/manage/roster/{shift.pk}/pick']")
    shift.refresh_from_db()
    assert shift.engineer == other

    gap = browser.page.locator("[data-drop=gap]").first
    starts = gap.get_attribute("data-starts")
    with browser.page.expect_navigation():
        browser.page.drag_and_drop(f"[data-engineer='{people['duty'].pk}']",
                                   "[data-drop=gap] >> nth=0")
    planned = DutyShift.objects.exclude(pk=shift.pk).get()
    assert planned.engineer == people["duty"]
    assert timezone.localtime(planned.starts_at).strftime("%Y-%m-%dT%H:%M") == starts
    browser.shot("dragged")
