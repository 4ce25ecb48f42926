"""The duty roster page (/manage/roster/): a week day by day with gaps and overlaps shown, a
person picked per shift, shifts planned and refused in the reader's words, each on record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.utils import translation

from opsdesk.accounts.roles import Role
from opsdesk.routing.models import DutyShift
from opsdesk.routing.selectors import duty_engineer_at
from tests.web.conftest import text

# Monday 7 December 2026, 10:00 in Shanghai.
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, display_name="管理员")


@pytest.fixture
def night(people, make_user):
    """张伟 on duty Monday 09:00 to 21:00, 何敏 from 21:00 to Tuesday 09:00 (Shanghai)."""
    other = make_user(Role.DUTY, display_name="何敏")
    return [
        DutyShift.objects.create(starts_at=datetime(2026, 12, 7, 1, tzinfo=UTC),
                                 ends_at=datetime(2026, 12, 7, 13, tzinfo=UTC),
                                 engineer=people["duty"]),
        DutyShift.objects.create(starts_at=datetime(2026, 12, 7, 13, tzinfo=UTC),
                                 ends_at=datetime(2026, 12, 8, 1, tzinfo=UTC),
                                 engineer=other),
    ]


def test_only_administrators_open_the_roster(people, browser_as, night):
    for who in ("duty", "head", "submitter"):
        client = browser_as(people[who])
        assert client.get("/manage/roster/").status_code == 403
        assert client.post("/manage/roster/", {}).status_code == 403
        assert client.post(f"/manage/roster/{night[0].pk}/delete").status_code == 403
    assert DutyShift.objects.count() == 2


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_week_shows_shifts_and_the_hours_nobody_is_on_duty(
        admin, browser_as, night, language):
    page = text(browser_as(admin, language).get("/manage/roster/"))
    assert "2026-12-07" in page and "2026-12-13" in page
    assert "张伟" in page and "何敏" in page
    # Monday 00:00–09:00 and everything from Tuesday 09:00 is uncovered: 9 + 15 + 5 * 24 hours.
    assert "144" in page
    assert "00:00–09:00" in page and "09:00–24:00" in page
    assert ("值班人员" if language == "zh-hans" else "Duty engineer") in page
    assert "Shifts that overlap" not in page and "??" not in page


def test_a_gap_s_fill_link_prefills_the_new_shift(admin, browser_as, night):
    page = text(browser_as(admin, "en").get(
        "/manage/roster/?week=2026-12-07&starts_at=2026-12-08T09:00&ends_at=2026-12-09T00:00"))
    assert 'value="2026-12-08T09:00"' in page and 'value="2026-12-09T00:00"' in page


def test_planning_a_shift_fills_the_gap_and_is_on_record(admin, people, browser_as, night):
    client = browser_as(admin, "en")
    response = client.post("/manage/roster/", {
        "starts_at": "2026-12-08T09:00", "ends_at": "2026-12-08T21:00",
        "engineer": people["duty"].pk, "backup": night[1].engineer.pk})
    assert response.status_code == 302 and response.url == "/manage/roster/?week=2026-12-07"
    shift = DutyShift.objects.get(starts_at=datetime(2026, 12, 8, 1, tzinfo=UTC))
    assert shift.ends_at == datetime(2026, 12, 8, 13, tzinfo=UTC)
    assert duty_engineer_at(datetime(2026, 12, 8, 5, tzinfo=UTC)) == people["duty"]
    entry = LogEntry.objects.get(object_id=str(shift.pk))
    assert entry.user == admin and entry.action_flag == ADDITION
    page = text(client.get(response.url))
    assert "张伟 is on duty from 2026-12-08 09:00 to 2026-12-08 21:00." in page
    assert "132" in page  # 144 hours uncovered less the 12 planned


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_shift_ending_before_it_starts_is_refused_in_words(
        admin, people, browser_as, night, language):
    response = browser_as(admin, language).post("/manage/roster/", {
        "starts_at": "2026-12-09T21:00", "ends_at": "2026-12-09T09:00",
        "engineer": people["duty"].pk})
    assert response.status_code == 422
    with translation.override(language):
        expected = translation.gettext(
            "The shift ends (%(end)s) before it starts (%(start)s): give an end after the "
            "start; a night shift ends on the next day.") % {
                "end": "2026-12-09 09:00", "start": "2026-12-09 21:00"}
    page = text(response)
    assert expected in page and "shift_ends_after_start" not in page
    assert DutyShift.objects.count() == 2 and not LogEntry.objects.exists()


def test_a_missing_engineer_is_named_in_chinese(admin, browser_as, night):
    page = text(browser_as(admin).post("/manage/roster/", {
        "starts_at": "2026-12-09T09:00", "ends_at": "2026-12-09T21:00"}))
    assert "此字段为必填项。" in page


def test_an_overlapping_shift_names_the_shift_it_overlaps(admin, people, browser_as, night):
    response = browser_as(admin, "en").post("/manage/roster/", {
        "starts_at": "2026-12-07T20:00", "ends_at": "2026-12-08T02:00",
        "engineer": people["duty"].pk, "backup": people["duty"].pk})
    page = text(response)
    assert response.status_code == 422
    assert ("It overlaps 何敏&#x27;s shift from 2026-12-07 21:00 to 2026-12-08 09:00" in page
            and "It overlaps 张伟&#x27;s shift from 2026-12-07 09:00 to 2026-12-07 21:00" in page)
    assert "The backup must be someone other than the duty engineer." in page


def test_only_duty_engineers_can_be_given_a_shift(admin, people, browser_as, night):
    client = browser_as(admin, "en")
    page = text(client.get("/manage/roster/"))
    assert "李娜" not in page  # a support engineer is not offered
    response = client.post("/manage/roster/", {
        "starts_at": "2026-12-09T09:00", "ends_at": "2026-12-09T21:00",
        "engineer": people["support"].pk})
    assert response.status_code == 422 and "Select a valid choice" in text(response)
    client.post(f"/manage/roster/{night[0].pk}/pick", {"engineer": people["support"].pk})
    night[0].refresh_from_db()
    assert night[0].engineer == people["duty"]


def test_overlaps_made_elsewhere_are_shown(admin, people, browser_as, night):
    DutyShift.objects.create(starts_at=datetime(2026, 12, 7, 12, tzinfo=UTC),
                             ends_at=datetime(2026, 12, 7, 14, tzinfo=UTC),
                             engineer=people["duty"])
    page = text(browser_as(admin, "en").get("/manage/roster/"))
    assert "Shifts that overlap" in page
    assert "张伟 (12-07 09:00–12-07 21:00) and 张伟 (12-07 20:00–12-07 22:00)" in page


def test_picking_another_person_for_a_shift(admin, people, browser_as, night):
    client = browser_as(admin, "en")
    other = night[1].engineer
    response = client.post(f"/manage/roster/{night[0].pk}/pick", {"engineer": other.pk})
    assert response.status_code == 302
    night[0].refresh_from_db()
    assert night[0].engineer == other
    assert duty_engineer_at(datetime(2026, 12, 7, 5, tzinfo=UTC)) == other
    entry = LogEntry.objects.get(object_id=str(night[0].pk))
    assert entry.action_flag == CHANGE and entry.get_change_message() == "Changed duty engineer."


def test_changing_and_removing_a_shift(admin, people, browser_as, night):
    client = browser_as(admin, "en")
    page = text(client.get(f"/manage/roster/{night[0].pk}/"))
    assert 'value="2026-12-07T09:00"' in page
    refused = client.post(f"/manage/roster/{night[0].pk}/", {
        "starts_at": "2026-12-07T09:00", "ends_at": "2026-12-20T09:00",
        "engineer": people["duty"].pk})
    assert refused.status_code == 422
    assert "A shift lasts at most 7 days; this one would last 13 days." in text(refused)
    changed = client.post(f"/manage/roster/{night[0].pk}/", {
        "starts_at": "2026-12-07T08:00", "ends_at": "2026-12-07T21:00",
        "engineer": people["duty"].pk})
    assert changed.status_code == 302
    night[0].refresh_from_db()
    assert night[0].starts_at == datetime(2026, 12, 7, 0, tzinfo=UTC)
    assert client.post(f"/manage/roster/{night[0].pk}/delete").status_code == 302
    assert not DutyShift.objects.filter(pk=night[0].pk).exists()
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_month_view_shows_every_day_and_its_gaps(admin, browser_as, night, language):
    page = text(browser_as(admin, language).get("/manage/roster/", {"month": "2026-12"}))
    assert "2026-12-01" in page and "2026-12-31" in page
    assert "?month=2026-11" in page and "?month=2027-01" in page
    # December: 31 days, 24 of them covered (张伟 12 hours, 何敏 12 hours on the 7th).
    assert "720" in page
    assert page.count('class="gap"') == 31


def test_the_hub_and_the_admin_history_show_each_change_in_the_reader_s_language(
        admin, admin_user, people, browser_as, night):
    client = browser_as(admin)  # changed in Chinese
    client.post(f"/manage/roster/{night[0].pk}/pick", {"engineer": night[1].engineer.pk})
    client.post(f"/manage/roster/{night[1].pk}/delete")
    english = browser_as(admin, "en")
    hub = text(english.get("/manage/"))
    assert "Changed duty engineer." in hub and "Deleted." in hub and "管理员" in hub
    history = browser_as(admin_user, "en").get(
        f"/admin/routing/dutyshift/{night[0].pk}/history/")
    assert history.status_code == 200 and "Changed duty engineer." in text(history)
    with translation.override("zh-hans"):
        changed = translation.gettext("Changed {fields}.").format(
            fields=translation.gettext("duty engineer"))
    assert changed in text(client.get("/manage/"))
