"""Security as a browser sees it: CSRF enforced, user HTML never runs, no peeking by URL."""

from __future__ import annotations

import pytest

from opsdesk.tickets.models import Comment
from tests.factories import TicketFactory

# Live-server tests commit for real; serialized_rollback brings back the data migrations' rows
# (SLA policies, routing rules, the priority matrix) that earlier such tests emptied.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def test_a_script_in_a_description_stays_text(people, people_at_browsers):
    submitter = people_at_browsers(people["submitter"])
    submitter.goto("/portal/new/")
    submitter.page.fill("#title", "<b>粗体</b> 标题")
    submitter.page.check("input[name=impact][value=few_users]")
    submitter.page.check("input[name=urgency][value=low]")
    submitter.page.fill("#description", HOSTILE)
    submitter.page.fill("#occurred_at", "2026-11-25T09:10")
    submitter.page.fill("#steps_to_reproduce", "打开报表页")
    submitter.page.fill("#error_message", "无")
    submitter.page.fill("#impact_scope", "财务部")
    with submitter.page.expect_navigation():
        submitter.page.click("form.guided button[type=submit]")
    for viewer in (submitter, people_at_browsers(people["duty"])):
        key = submitter.page.url.rstrip("/").rsplit("/", 1)[1]
        viewer.goto(f"/tickets/{key}/")
        assert viewer.page.evaluate("window.__pwned") is None
        assert HOSTILE in viewer.page.inner_text(".prose")
        assert "<b>粗体</b>" in viewer.page.inner_text("h1")
        viewer.shot(f"hostile-{viewer.username}")


def test_a_form_without_its_csrf_token_is_refused(people, people_at_browsers):
    ticket = TicketFactory(by=people["submitter"])
    submitter = people_at_browsers(people["submitter"])
    submitter.goto(f"/tickets/{ticket.key}/")
    submitter.page.fill("#comment-body", "伪造的评论")
    submitter.page.evaluate(
        "document.querySelector('#comment-body').form"
        ".querySelector('[name=csrfmiddlewaretoken]').value = 'forged'")
    with submitter.page.expect_navigation() as navigation:
        submitter.page.click("button[value=reply]")
    assert navigation.value.status == 403
    assert "表单被拒绝" in submitter.page.inner_text("h1")
    submitter.shot("csrf-refused")
    assert not Comment.objects.exists()


def test_a_submitter_cannot_open_anothers_ticket_by_url(people, people_at_browsers):
    theirs = TicketFactory(by=people["other_submitter"], title="别人的工单")
    submitter = people_at_browsers(people["submitter"])
    response = submitter.goto(f"/tickets/{theirs.key}/")
    assert response.status == 404
    assert "别人的工单" not in submitter.page.content()
    assert submitter.goto("/tickets/").status == 403
