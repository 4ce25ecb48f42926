"""Post-incident reviews (issue 17, item 4): an urgent ticket, and any emergency, is archived
only once its review is complete (the workflow table's guard, by a person or by the archive
policy); the review starts from a timeline summary generated from the ticket, holds the root
cause and what went well and badly, and action items with owners and due dates that the owner
is told of, reminded of and told when overdue by the worker; reviews are found by search."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from opsdesk.notify.models import Delivery
from opsdesk.reviews.follow_ups import follow_up
from opsdesk.runtime.periodic import default_jobs
from opsdesk.tickets.archiving import archive_due
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket
from tests.factories import ticket_in

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
URGENT = {"impact": "all_users", "urgency": "immediate"}
TEXTS = {"root_cause": "连接池上限 20，促销流量下耗尽", "went_well": "告警 2 分钟内发出",
         "went_badly": "扩容脚本没有演练过"}


def told(kind: str) -> list[str]:
    rows = Delivery.objects.filter(notification_kind=kind).select_related("recipient")
    return sorted(row.recipient.username for row in rows if row.recipient)


def urgent_closed(people, **create) -> Ticket:
    return ticket_in(Status.CLOSED, people=people, **{"title": "支付服务全部超时", **URGENT,
                                                      **create})


def start(api, key, **fields):
    response = api.post(f"/tickets/{key}/review", fields)
    assert response.status_code == 201, response.json()
    return response.json()


def write_and_complete(api, key) -> dict:
    review = start(api, key)
    edited = api.patch(f"/tickets/{key}/review", {"version": review["version"], **TEXTS})
    assert edited.status_code == 200, edited.json()
    done = api.post(f"/tickets/{key}/review/complete", {"version": edited.json()["version"]})
    assert done.status_code == 200, done.json()
    return done.json()


def test_an_urgent_ticket_is_not_archived_without_its_review(api, people):
    ticket = urgent_closed(people)

    refused = api["duty"].act(ticket.key, "archive")

    assert refused.status_code == 409, refused.json()
    assert refused.json()["message"] == (
        f"{ticket.key} cannot be archived without a post-incident review (required because "
        "it is urgent): write it on the ticket's page and complete it.")
    assert "archive" not in [a["name"] for a in api["duty"].read(ticket.key)["actions"]]

    draft = start(api["owner"], ticket.key)
    assert draft["status"] == "draft" and draft["required"] is True
    still = api["duty"].act(ticket.key, "archive")
    assert still.status_code == 409 and "is still a draft" in still.json()["message"]


def test_a_review_is_written_from_its_generated_summary_and_completed(api, people):
    ticket = urgent_closed(people)

    review = start(api["owner"], ticket.key)

    summary = review["timeline_summary"]
    assert "Reported (api), priority urgent" in summary
    assert "Assign by 张伟 → 王磊" in summary
    assert "Send for verification by 王磊" in summary
    assert "Confirm the fix by 孙丽" in summary
    assert "Time to fix:" in summary and "Duration (from occurrence to closing):" in summary
    assert (review["author"]["username"], review["version"]) == (people["owner"].username, 1)

    missing = api["owner"].post(f"/tickets/{ticket.key}/review/complete", {"version": 1})
    assert missing.status_code == 422
    assert missing.json()["message"] == (
        "The review needs: root cause, what went well, what went badly.")

    edited = api["support"].patch(f"/tickets/{ticket.key}/review", {"version": 1, **TEXTS})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = api["owner"].patch(f"/tickets/{ticket.key}/review",
                               {"version": 1, "root_cause": "别的"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"

    not_theirs = api["support"].post(f"/tickets/{ticket.key}/review/complete", {"version": 2})
    assert not_theirs.status_code == 403
    done = api["owner"].post(f"/tickets/{ticket.key}/review/complete", {"version": 2})
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "complete"
    assert done.json()["completed_by"]["username"] == people["owner"].username
    final = api["owner"].patch(f"/tickets/{ticket.key}/review",
                               {"version": 3, "went_well": "改"})
    assert final.status_code == 409

    archived = api["duty"].act(ticket.key, "archive")
    assert archived.status_code == 200, archived.json()
    got = api["head"].get(f"/tickets/{ticket.key}/review").json()
    assert (got["status"], got["root_cause"]) == ("complete", TEXTS["root_cause"])
    kinds = [e["data"]["action"] for e in api["owner"].timeline(ticket.key)
             if e["kind"] == "review"]
    assert kinds == ["started", "edited", "completed"]


def test_an_emergency_needs_its_review_even_if_its_priority_was_lowered(api, people):
    ticket = ticket_in(Status.IN_PROGRESS, people=people)
    assert api["duty"].post(f"/tickets/{ticket.key}/emergency",
                            {"reason": "支付全部失败"}).status_code == 201
    version = api["owner"].read(ticket.key)["version"]
    assert api["owner"].patch(f"/tickets/{ticket.key}", {
        "version": version, "fields": {"priority": "high"}}).status_code == 200
    for action, who, fields in (
            ("resolve", "owner", {"cause": "c", "solution": "s", "time_taken_minutes": 30,
                                  "prevention": "p"}), ("confirm", "submitter", {})):
        assert api[who].act(ticket.key, action, **fields).status_code == 200

    refused = api["duty"].act(ticket.key, "archive")

    assert refused.status_code == 409
    assert "required because an emergency was declared on it" in refused.json()["message"]
    write_and_complete(api["owner"], ticket.key)
    assert api["duty"].act(ticket.key, "archive").status_code == 200


def test_a_high_ticket_needs_no_review_but_may_have_one(api, people):
    ticket = ticket_in(Status.CLOSED, people=people)
    review = start(api["owner"], ticket.key)
    assert review["required"] is False
    assert api["duty"].act(ticket.key, "archive").status_code == 200


def test_reviews_are_for_department_staff(api, people):
    ticket = urgent_closed(people)
    start(api["owner"], ticket.key)

    assert api["submitter"].get(f"/tickets/{ticket.key}/review").status_code == 403
    assert api["submitter"].post(f"/tickets/{ticket.key}/review", {}).status_code in (403, 409)
    assert api["other_submitter"].get(f"/tickets/{ticket.key}/review").status_code == 404
    # A developer not pulled into the ticket cannot read it at all.
    assert api["developer"].get(f"/tickets/{ticket.key}/review").status_code == 404


def test_action_items_are_tracked_work_for_their_owners(api, people):
    ticket = urgent_closed(people)
    start(api["owner"], ticket.key)
    due = datetime(2027, 1, 4, 18, 0, tzinfo=SH)

    added = api["owner"].post(f"/tickets/{ticket.key}/review/actions", {
        "title": "为连接池增加容量告警", "owner": people["ops"].username,
        "due_at": due.isoformat()})
    assert added.status_code == 201, added.json()
    item = added.json()
    assert item["owner"]["username"] == people["ops"].username and item["overdue"] is False
    assert told("action_item") == [people["ops"].username]
    for bad, field in (({"owner": people["submitter"].username}, "owner"),
                       ({"due_at": "2020-01-01T00:00:00+08:00"}, "due_at"),
                       ({"title": "  "}, "title")):
        refused = api["owner"].post(f"/tickets/{ticket.key}/review/actions", {
            "title": "x", "owner": people["ops"].username, "due_at": due.isoformat(), **bad})
        assert refused.status_code == 422, (bad, refused.json())
        assert refused.json()["details"]["field"] == field

    # In the owner's queue, even though the ticket is hers only through the action.
    mine = api["ops"].get("/action-items").json()
    assert [(i["title"], i["ticket"]) for i in mine] == [("为连接池增加容量告警", ticket.key)]

    # The worker: a reminder a day before, then once overdue; each once.
    with time_machine.travel(due - timedelta(days=2), tick=False):
        assert follow_up() == 0
    with time_machine.travel(due - timedelta(hours=20), tick=False):
        assert follow_up() == 1
        assert follow_up() == 0
    assert told("action_item_due") == [people["ops"].username]
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert follow_up() == 1
        assert follow_up() == 0
        assert api["ops"].get("/action-items").json()[0]["overdue"] is True
    assert told("action_item_overdue") == sorted([people["ops"].username,
                                                  people["owner"].username])

    # Done after the ticket was archived: the work goes on beyond it.
    write = api["owner"].patch(f"/tickets/{ticket.key}/review",
                               {"version": api["owner"].get(f"/tickets/{ticket.key}/review")
                                .json()["version"], **TEXTS})
    api["owner"].post(f"/tickets/{ticket.key}/review/complete",
                      {"version": write.json()["version"]})
    assert api["duty"].act(ticket.key, "archive").status_code == 200
    stranger = api["support"].patch(f"/tickets/{ticket.key}/review/actions/{item['id']}",
                                    {"done": True})
    assert stranger.status_code == 403
    done = api["ops"].patch(f"/tickets/{ticket.key}/review/actions/{item['id']}",
                            {"done": True, "note": "已在 Prometheus 增加规则"})
    assert done.status_code == 200, done.json()
    assert done.json()["done_by"]["username"] == people["ops"].username
    assert api["ops"].get("/action-items").json() == []


def test_the_policy_holds_an_unreviewed_urgent_ticket_and_tells_its_people_once(api, people,
                                                                               settings):
    settings.OPSDESK_ARCHIVE_AFTER_DAYS = 30
    closed_at = timezone.now()
    ticket = urgent_closed(people)
    later = closed_at + timedelta(days=31)

    with time_machine.travel(later, tick=False):
        assert archive_due() == 0
        assert follow_up() == 1
        assert follow_up() == 0
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    assert people["owner"].username in told("review_needed")
    assert people["duty"].username in told("review_needed")

    write_and_complete(api["owner"], ticket.key)
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        assert archive_due() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ARCHIVED
    assert "review-follow-ups" in [job.name for job in default_jobs()]


def test_a_reopened_ticket_takes_its_review_back_to_draft(api, people):
    ticket = urgent_closed(people)
    write_and_complete(api["owner"], ticket.key)

    assert api["submitter"].act(ticket.key, "reopen", reason="又超时了").status_code == 200

    review = api["owner"].get(f"/tickets/{ticket.key}/review").json()
    assert review["status"] == "draft" and review["completed_at"] is None


def test_a_review_is_found_by_staff_searching_its_words(api, people):
    ticket = urgent_closed(people)
    start(api["owner"], ticket.key, root_cause="Redis 主从切换期间哨兵误判")

    found = api["duty"].get("/tickets", text="哨兵误判").json()["items"]
    assert [t["key"] for t in found] == [ticket.key]
    assert api["submitter"].get("/tickets", text="哨兵误判").json()["items"] == []
    item = api["owner"].post(f"/tickets/{ticket.key}/review/actions", {
        "title": "演练 Sentinel failover", "owner": people["owner"].username,
        "due_at": (timezone.now() + timedelta(days=7)).isoformat()})
    assert item.status_code == 201
    assert [t["key"] for t in api["head"].get("/tickets", text="failover").json()["items"]] == [
        ticket.key]


def test_the_ticket_page_writes_the_review(people, browser_as, api):
    ticket = urgent_closed(people)
    owner = browser_as(people["owner"], "en")
    page = owner.get(f"/tickets/{ticket.key}/").content.decode()
    assert 'data-review="none"' in page and "data-review-required" in page
    assert f'action="/tickets/{ticket.key}/review/start"' in page
    assert "Post-incident review" not in browser_as(people["submitter"], "en").get(
        f"/tickets/{ticket.key}/").content.decode()

    assert owner.post(f"/tickets/{ticket.key}/review/start").status_code == 302
    page = owner.get(f"/tickets/{ticket.key}/").content.decode()
    assert 'data-review="draft"' in page and "Reported (api), priority urgent" in page

    refused = owner.post(f"/tickets/{ticket.key}/review/complete", {
        "version": "1", "timeline_summary": "摘要", "root_cause": "根因", "went_well": "",
        "went_badly": "慢"})
    assert refused.status_code == 422
    assert "The review needs: what went well." in refused.content.decode()
    assert "根因" in refused.content.decode()  # what she wrote is kept

    due = (timezone.localtime(timezone.now() + timedelta(days=3))).strftime("%Y-%m-%dT%H:%M")
    assert owner.post(f"/tickets/{ticket.key}/review/actions", {
        "title": "补充扩容演练", "owner": people["ops"].username, "due_at": due,
    }).status_code == 302
    version = api["owner"].get(f"/tickets/{ticket.key}/review").json()["version"]
    done = owner.post(f"/tickets/{ticket.key}/review/complete", {
        "version": str(version), "timeline_summary": "摘要", "root_cause": "根因",
        "went_well": "快", "went_badly": "慢"})
    assert done.status_code == 302
    page = owner.get(f"/tickets/{ticket.key}/").content.decode()
    assert 'data-review="complete"' in page and "补充扩容演练" in page
    assert "Post-incident review completed" in page  # on the timeline
    assert f'action="/tickets/{ticket.key}/actions/archive"' in page
    ops = browser_as(people["ops"], "en")
    assert "补充扩容演练" in ops.get("/action-items/").content.decode()
    # She marks it done from her list, though the ticket itself is not hers to read.
    [item] = api["ops"].get("/action-items").json()
    marked = ops.post(f"/tickets/{ticket.key}/review/actions/{item['id']}",
                      {"from": "list", "done": "yes", "note": "演练完成"})
    assert marked.status_code == 302 and marked["Location"] == "/action-items/"
    assert api["ops"].get("/action-items").json() == []
    assert "✓ 补充扩容演练" in owner.get(f"/tickets/{ticket.key}/").content.decode()
    # Someone it is not for is told so on her own list; an item that is not there is a 404.
    stranger = browser_as(people["support"], "en")
    refused = stranger.post(f"/tickets/{ticket.key}/review/actions/{item['id']}",
                            {"from": "list", "done": "no"}, follow=True)
    assert refused.redirect_chain == [("/action-items/", 302)]
    assert "Only the action&#x27;s owner" in refused.content.decode()
    assert "✓ 补充扩容演练" in owner.get(f"/tickets/{ticket.key}/").content.decode()
    assert ops.post(f"/tickets/{ticket.key}/review/actions/999999",
                    {"from": "list", "done": "yes"}).status_code == 404


def test_an_archived_incident_is_exported_with_its_review(api, people):
    ticket = urgent_closed(people)
    start(api["owner"], ticket.key)
    assert api["owner"].post(f"/tickets/{ticket.key}/review/actions", {
        "title": "扩容脚本演练", "owner": people["ops"].username,
        "due_at": "2027-01-04T18:00:00+08:00"}).status_code == 201
    version = api["owner"].get(f"/tickets/{ticket.key}/review").json()["version"]
    edited = api["owner"].patch(f"/tickets/{ticket.key}/review", {"version": version, **TEXTS})
    api["owner"].post(f"/tickets/{ticket.key}/review/complete",
                      {"version": edited.json()["version"]})
    assert api["duty"].act(ticket.key, "archive").status_code == 200

    exported = api["head"].get("/reports/tickets", status="archived", format="csv")

    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Key"], row["Status"], row["Post-incident review"]) == (
        ticket.key, "Archived", "complete")
    assert row["Root cause"] == TEXTS["root_cause"]
    assert row["Action items"] == "☐ 扩容脚本演练 (陈静, 2027-01-04)"
