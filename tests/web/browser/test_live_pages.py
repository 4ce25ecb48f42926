"""Live pages in a real browser: another person's reply appears on an open ticket page without
a reload, what someone is typing there is never thrown away, and the count of unread
notifications in the navigation follows."""

from __future__ import annotations

import pytest

from opsdesk.tickets import services
from tests.factories import ticket_in

# Live-server tests commit for real; serialized_rollback brings back the data migrations' rows
# (SLA policies, routing rules, the priority matrix) that earlier such tests emptied.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def fast_refresh(settings):
    settings.OPSDESK_QUEUE_REFRESH_SECONDS = 1


def test_a_reply_appears_on_the_open_ticket_page(people, people_at_browsers, fast_refresh):
    ticket = ticket_in("analysing", people=people, title="登录后页面一直转圈")
    submitter = people_at_browsers(people["submitter"])
    submitter.goto(f"/tickets/{ticket.key}/")
    submitter.page.evaluate("window.__sameDocument = true")

    services.add_comment(ticket_id=ticket.pk, by=people["owner"], body="请问用的是哪个浏览器？")
    submitter.page.wait_for_selector("ol.timeline >> text=请问用的是哪个浏览器？")
    assert submitter.page.evaluate("window.__sameDocument") is True  # never reloaded
    submitter.shot("01-reply-appeared")

    # She starts answering; meanwhile the engineer acts: the timeline and status follow, her
    # words stay, and a notice says why the rest of the page waits.
    submitter.page.fill("#comment-body", "Chrome 120，Windows 11")
    ticket.refresh_from_db()
    services.do_transition(ticket_id=ticket.pk, action="request_info", by=people["owner"],
                           version=ticket.version, fields={"comment": "请再提供出错时间"})
    submitter.page.wait_for_selector("ol.timeline >> text=请再提供出错时间")
    submitter.page.wait_for_selector(".live-banner", state="visible")
    assert submitter.page.input_value("#comment-body") == "Chrome 120，Windows 11"
    assert "等待提交人" in submitter.page.inner_text(".status-line")
    assert submitter.page.evaluate("window.__sameDocument") is True
    submitter.shot("02-changed-while-typing")
    with submitter.page.expect_navigation():
        submitter.page.click("button[value=reply]")
    assert "Chrome 120，Windows 11" in submitter.page.inner_text("ol.timeline")


def test_the_unread_count_follows_on_any_page(people, people_at_browsers, fast_refresh):
    ticket = ticket_in("analysing", people=people)
    submitter = people_at_browsers(people["submitter"])
    submitter.goto("/notifications/")
    with submitter.page.expect_navigation():
        submitter.page.click("button[name=all]")
    assert submitter.page.inner_text("#unread-count") == ""
    submitter.goto("/portal/")
    services.add_comment(ticket_id=ticket.pk, by=people["owner"], body="已定位到原因")
    submitter.page.wait_for_function(
        "() => /(^|\\D)1$/.test(document.querySelector('#unread-count').innerText.trim())")
    submitter.shot("unread-count")
    # Reading the ticket reads its notification: the count goes with it.
    submitter.goto(f"/tickets/{ticket.key}/")
    assert submitter.page.inner_text("#unread-count") == ""
