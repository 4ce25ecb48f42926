"""Pages that keep themselves up to date (web/views/live.py): an open ticket page and queue ask
"anything new since what I show?" and hear 204 while nothing is, the changed parts when
something is; and one's notifications in opsdesk itself, with the unread count in the
navigation. Each answer is only for who may see it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from opsdesk.notify.models import Notice, Team
from opsdesk.tickets import services
from tests.factories import TicketFactory, ticket_in
from tests.web.conftest import text


def poll_of(page: str, element_id: str) -> str:
    """The address the element ``element_id`` of ``page`` polls."""
    tag = re.search(rf'<[^>]*id="{element_id}"[^>]*>', page)
    assert tag is not None, element_id
    found = re.search(r'hx-get="([^"]+)"', tag.group(0))
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def hx(client: Client, url: str) -> object:
    return client.get(url, HTTP_HX_REQUEST="true")


# The ticket page


def test_an_open_ticket_page_hears_nothing_until_someone_else_replies(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    submitter = browser_as(people["submitter"])
    poll = poll_of(text(submitter.get(f"/tickets/{ticket.key}/")), "ticket-live")
    assert poll.startswith(f"/tickets/{ticket.key}/changes?since=")

    quiet = hx(submitter, poll)
    assert quiet.status_code == 204 and quiet.content == b""
    assert quiet["Cache-Control"] == "no-store"

    services.add_comment(ticket_id=ticket.pk, by=people["owner"], body="请问是哪个浏览器？")
    changed = hx(submitter, poll)
    assert changed.status_code == 200
    fragment = text(changed)
    assert "data-changed" in fragment and "<html" not in fragment
    # It carries the new mark: asked again with it, nothing new.
    again = poll_of(fragment, "ticket-live")
    assert again != poll and hx(submitter, again).status_code == 204
    # The page itself, fetched by the script, shows the reply and the same mark.
    page = text(submitter.get(f"/tickets/{ticket.key}/"))
    assert "请问是哪个浏览器？" in page and poll_of(page, "ticket-live") == again


def test_an_internal_note_changes_the_staffs_page_but_not_the_submitters(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    submitter, duty = browser_as(people["submitter"]), browser_as(people["duty"])
    hers = poll_of(text(submitter.get(f"/tickets/{ticket.key}/")), "ticket-live")
    theirs = poll_of(text(duty.get(f"/tickets/{ticket.key}/")), "ticket-live")
    services.add_comment(ticket_id=ticket.pk, by=people["owner"], body="怀疑是缓存",
                         internal=True)
    assert hx(submitter, hers).status_code == 204
    assert hx(duty, theirs).status_code == 200


def test_a_decision_and_a_routed_ticket_change_the_page(people, browser_as, settings):
    settings.OPSDESK_DISPATCH = "worker"
    from opsdesk.tickets.dispatch import dispatch_all

    ticket = TicketFactory(by=people["submitter"])
    submitter = browser_as(people["submitter"], "en")
    page = text(submitter.get(f"/tickets/{ticket.key}/"))
    assert "This page shows who has it as soon as that is done." in page
    poll = poll_of(page, "ticket-live")
    assert hx(submitter, poll).status_code == 204
    dispatch_all()
    assert hx(submitter, poll).status_code == 200


def test_only_those_who_may_read_the_ticket_hear_of_it(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    url = f"/tickets/{ticket.key}/changes?since=x"
    assert hx(browser_as(people["other_submitter"]), url).status_code == 404
    assert hx(browser_as(people["developer"]), url).status_code == 404  # not pulled in
    assert hx(browser_as(people["submitter"]), url).status_code == 200
    assert hx(browser_as(people["duty"]), url).status_code == 200
    assert hx(Client(), url).status_code == 401  # signed out: no sign-in page swapped in
    assert browser_as(people["submitter"]).post(url).status_code == 405
    assert hx(browser_as(people["submitter"]), "/tickets/OPS-999999/changes").status_code == 404


# The queue


def test_the_queue_poll_is_204_until_a_ticket_is_filed_or_changes(people, browser_as):
    TicketFactory(by=people["submitter"], title="早上的工单")
    duty = browser_as(people["duty"])
    poll = "/tickets/" + poll_of(text(duty.get("/tickets/?queue=unassigned")), "queue-results")
    assert "since=" in poll
    assert hx(duty, poll).status_code == 204

    TicketFactory(by=people["submitter"], title="刚刚提交的问题")
    fragment = text(hx(duty, poll))
    assert "刚刚提交的问题" in fragment and "早上的工单" in fragment
    newer = "/tickets/" + poll_of(fragment, "queue-results")
    assert hx(duty, newer).status_code == 204
    # A saved view keeps the filters, never the moment.
    page = text(duty.get("/tickets/" + poll.split("/tickets/")[1]))
    assert 'name="query" value="queue=unassigned"' in page


def test_the_queue_poll_is_for_department_staff(people, browser_as):
    url = "/tickets/?queue=all&since=0"
    assert hx(browser_as(people["submitter"]), url).status_code == 403


# Notifications in opsdesk


def _reply(people, ticket, body="已定位到原因，今晚修复"):
    """The engineer's reply, once the submitter has read what she was told before it."""
    Notice.objects.filter(recipient=people["submitter"]).update(read_at=ticket.submitted_at)
    services.add_comment(ticket_id=ticket.pk, by=people["owner"], body=body)
    return Notice.objects.get(recipient=people["submitter"], ticket=ticket, kind="reply",
                              read_at__isnull=True)


def test_a_reply_is_in_the_submitters_list_unread_and_counted(people, browser_as):
    ticket = ticket_in("analysing", people=people, title="登录后页面一直转圈")
    submitter = browser_as(people["submitter"])
    _reply(people, ticket)

    home = text(submitter.get("/portal/"))
    badge = poll_of(home, "unread-count")
    assert badge == "/notifications/unread?shown=1"
    assert hx(submitter, badge).status_code == 204

    page = text(submitter.get("/notifications/"))
    assert "工程师的回复" in page or "Reply from the engineer" in page
    assert ticket.key in page and "登录后页面一直转圈" in page and "王磊" in page
    assert 'class="notice unread"' in page

    services.add_comment(ticket_id=ticket.pk, by=people["owner"], body="补充：需要重启浏览器")
    counted = hx(submitter, badge)
    assert counted.status_code == 200
    assert poll_of(text(counted), "unread-count") == "/notifications/unread?shown=2"


def test_opening_a_notification_marks_it_read_and_opens_its_ticket(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    notice = _reply(people, ticket)
    submitter = browser_as(people["submitter"])
    response = submitter.post(f"/notifications/{notice.pk}/open")
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.key}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert hx(submitter, "/notifications/unread?shown=1").status_code == 200
    assert hx(submitter, "/notifications/unread?shown=0").status_code == 204
    # Opening is a POST with its CSRF token, never a link a page elsewhere could make her follow.
    assert submitter.get(f"/notifications/{notice.pk}/open").status_code == 405


def test_reading_the_ticket_reads_what_one_was_told_about_it(people, browser_as):
    ticket, other = ticket_in("analysing", people=people), ticket_in("analysing", people=people)
    about_it = _reply(people, ticket)
    services.add_comment(ticket_id=other.pk, by=people["owner"], body="另一张单的回复")
    about_other = Notice.objects.get(ticket=other, kind="reply")
    owners = Notice.objects.filter(recipient=people["owner"], ticket=ticket, read_at=None)
    owners_before = owners.count()
    browser_as(people["submitter"]).get(f"/tickets/{ticket.key}/")
    about_it.refresh_from_db()
    about_other.refresh_from_db()
    assert about_it.read_at is not None and about_other.read_at is None
    assert owners.count() == owners_before  # someone else's notices of it stay as they were


def test_nobody_reads_or_marks_anothers_notifications(people, browser_as):
    ticket = ticket_in("analysing", people=people, title="只属于孙丽的通知")
    notice = _reply(people, ticket)
    other = browser_as(people["other_submitter"])
    assert "只属于孙丽的通知" not in text(other.get("/notifications/"))
    assert other.post(f"/notifications/{notice.pk}/open").status_code == 404
    other.post("/notifications/read", {"notice": [notice.pk]})
    other.post("/notifications/read", {"all": "1"})
    notice.refresh_from_db()
    assert notice.read_at is None
    assert Client().get("/notifications/").status_code == 302  # to the sign-in page
    assert Client().get("/notifications/unread?shown=0").status_code == 401


def test_marking_read_one_or_all(people, browser_as):
    first, second = (ticket_in("analysing", people=people) for _ in range(2))
    one = _reply(people, first)
    Notice.objects.update(read_at=None)
    submitter = browser_as(people["submitter"])
    unread = Notice.objects.filter(recipient=people["submitter"], read_at__isnull=True)
    before = unread.count()
    submitter.post("/notifications/read", {"notice": [one.pk]})
    assert unread.count() == before - 1 and one.pk not in unread.values_list("pk", flat=True)
    assert unread.filter(ticket=second).exists()
    submitter.post("/notifications/read", {"all": "1"})
    assert not Notice.objects.filter(recipient=people["submitter"], read_at__isnull=True)
    assert "Mark all read" not in text(browser_as(people["submitter"], "en")
                                       .get("/notifications/"))


def test_told_twice_listed_once_and_teams_reach_their_members(people):
    from opsdesk.notify import services as notify

    ticket = TicketFactory(by=people["submitter"])
    team = Team.objects.create(name="二线支持")
    team.members.add(people["support"], people["owner"])
    for _ in range(2):
        notify.notify(kind="escalated", ticket=ticket, recipients=[team, people["owner"]],
                      context={"reason": "超时"}, dedupe_key=f"esc:{ticket.pk}")
    told = Notice.objects.filter(kind="escalated")
    assert sorted(told.values_list("recipient__username", flat=True)) == sorted(
        [people["support"].username, people["owner"].username])


def test_someone_without_any_channel_still_finds_it_in_opsdesk(people, make_user):
    from opsdesk.notify import services as notify

    quiet = make_user("support", email="")
    ticket = TicketFactory(by=people["submitter"])
    assert notify.notify(kind="assigned", ticket=ticket, recipients=[quiet],
                         dedupe_key="a:1") == []  # no delivery: nowhere to send it
    assert Notice.objects.filter(recipient=quiet, ticket=ticket).exists()


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "SLA 即将超时"),
                                                  ("en", "SLA at risk")])
def test_the_list_speaks_the_readers_language(people, browser_as, language, label):
    from opsdesk.notify import services as notify

    ticket = TicketFactory(by=people["submitter"])
    notify.notify(kind="sla_warning", ticket=ticket, recipients=[people["duty"]],
                  dedupe_key="w:1")
    assert label in text(browser_as(people["duty"], language).get("/notifications/"))


def test_an_unchanged_answer_costs_a_few_indexed_queries(people, browser_as,
                                                          django_assert_max_num_queries):
    ticket = ticket_in("analysing", people=people)
    for n in range(20):
        services.add_comment(ticket_id=ticket.pk, by=people["owner"], body=f"进展 {n}")
    submitter, duty = browser_as(people["submitter"]), browser_as(people["duty"])
    page_poll = poll_of(text(submitter.get(f"/tickets/{ticket.key}/")), "ticket-live")
    queue_poll = "/tickets/" + poll_of(text(duty.get("/tickets/?queue=all")), "queue-results")
    badge_poll = poll_of(text(submitter.get("/portal/")), "unread-count")
    # The session, its user and her roles, then the question itself: nothing is listed or
    # rendered, however long the timeline or the queue.
    with django_assert_max_num_queries(5):
        assert hx(submitter, page_poll).status_code == 204
    with django_assert_max_num_queries(4):
        assert hx(duty, queue_poll).status_code == 204
    with django_assert_max_num_queries(3):
        assert hx(submitter, badge_poll).status_code == 204
