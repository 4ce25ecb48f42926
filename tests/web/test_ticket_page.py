"""The ticket page: every field, the timeline, exactly the actions the viewer may take (with
exactly the fields each requires), inline refusals in the viewer's language, comments vs
internal notes, the work log, collaborators, attachments and the submitter's rating."""

import re

import pytest

from opsdesk.tickets import policy, services, workflow
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import SupportRating, TimelineEvent
from tests.factories import TicketFactory, payment_module, ticket_in
from tests.web.conftest import text


def _forms(page):
    """{action: set of input names} of the action forms on the page."""
    found = {}
    for action, body in re.findall(r'data-action="([a-z_]+)">(.*?)</details>', page, re.S):
        names = set(re.findall(r'name="([a-z_]+)"', body)) - {"csrfmiddlewaretoken", "version"}
        found[action] = names
    return found


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("role", ["duty", "owner", "support", "head", "submitter", "developer"])
def test_the_page_offers_exactly_the_allowed_actions_with_exactly_their_fields(
        status, role, people, browser_as):
    ticket = ticket_in(status, people=people, collaborators=("developer",))
    user = people[role]
    forms = _forms(text(browser_as(user).get(f"/tickets/{ticket.key}/")))
    forms.pop("edit", None)
    allowed = policy.available_actions(user, ticket)
    assert set(forms) == {t.name for t in allowed}
    for transition in allowed:
        assert forms[transition.name] == {fld.name for fld in transition.fields}


def test_registration_fields_are_all_shown_and_html_stays_text(people, browser_as):
    payment_module(people["owner"])
    ticket = TicketFactory(by=people["submitter"], title="<script>alert(1)</script>",
                           description="<img src=x onerror=alert(2)>", error_message="E500",
                           steps_to_reproduce="1. 打开首页", impact_scope="全部用户")
    page = text(browser_as(people["duty"]).get(f"/tickets/{ticket.key}/"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    for value in ("E500", "1. 打开首页", "全部用户", people["submitter"].department):
        assert value in page


def test_taking_an_action_through_its_form(people, browser_as):
    payment_module(people["owner"])
    ticket = TicketFactory(by=people["submitter"])
    client = browser_as(people["duty"])
    response = client.post(f"/tickets/{ticket.key}/actions/triage", {
        "version": ticket.version, "priority": "high", "assignee": people["owner"].username,
        "module": "payment", "comment": "请尽快处理"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.ASSIGNED, people["owner"])
    assert "已分派" in text(client.get(f"/tickets/{ticket.key}/"))


@pytest.mark.parametrize(("language", "words"), [("zh-hans", "必填"), ("en", "Required")])
def test_missing_fields_are_shown_on_the_fields_in_the_viewers_language(
        language, words, people, browser_as):
    ticket = ticket_in("analysing", people=people)
    response = browser_as(people["owner"], language).post(
        f"/tickets/{ticket.key}/actions/classify",
        {"version": ticket.version, "problem_type": "code", "analysis_notes": "日志显示超时"})
    assert response.status_code == 422
    page = text(response)
    assert words in page
    # What the person typed is kept.
    assert "日志显示超时" in page
    ticket.refresh_from_db()
    assert ticket.status == Status.ANALYSING


def test_a_bad_value_is_shown_on_its_field(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    response = browser_as(people["owner"]).post(
        f"/tickets/{ticket.key}/actions/classify",
        {"version": ticket.version, "problem_type": "code", "module": "payment",
         "estimate_minutes": "两小时", "deadline_at": "2026-12-01T18:00"})
    assert response.status_code == 422
    assert re.search(r'class="field invalid">\s*<label for="classify-estimate_minutes"',
                     text(response))


def test_a_stale_form_is_refused_and_says_why(people, browser_as):
    ticket = ticket_in("assigned", people=people)
    response = browser_as(people["owner"]).post(
        f"/tickets/{ticket.key}/actions/acknowledge", {"version": ticket.version - 1})
    assert response.status_code == 409
    assert "被他人修改" in text(response) or "changed by someone else" in text(response)


def test_another_submitters_ticket_is_not_found(people, browser_as):
    ticket = TicketFactory(by=people["other_submitter"])
    client = browser_as(people["submitter"])
    assert client.get(f"/tickets/{ticket.key}/").status_code == 404
    assert client.post(f"/tickets/{ticket.key}/comments", {"body": "hi"}).status_code == 404
    assert client.get("/tickets/OPS-999999/").status_code == 404
    assert client.get("/tickets/not-a-key/").status_code == 404


def test_internal_notes_are_hidden_from_the_submitter(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    staff = browser_as(people["owner"])
    staff.post(f"/tickets/{ticket.key}/comments", {"body": "怀疑是连接池问题", "kind": "note"})
    staff.post(f"/tickets/{ticket.key}/comments", {"body": "我们正在排查", "kind": "reply"})
    submitter_page = text(browser_as(people["submitter"]).get(f"/tickets/{ticket.key}/"))
    assert "我们正在排查" in submitter_page and "怀疑是连接池问题" not in submitter_page
    assert "添加内部备注" not in submitter_page
    assert "怀疑是连接池问题" in text(staff.get(f"/tickets/{ticket.key}/"))


def test_a_done_action_is_confirmed_once_on_the_next_page(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    staff = browser_as(people["owner"])
    staff.post(f"/tickets/{ticket.key}/comments", {"body": "我们正在排查", "kind": "reply"})
    # A call that shows no page (the API, the health check) leaves the confirmation waiting.
    assert staff.get("/api/v1/me").status_code == 200
    assert staff.get("/healthz").status_code == 200
    assert "回复已发送" in text(staff.get(f"/tickets/{ticket.key}/"))
    assert "回复已发送" not in text(staff.get(f"/tickets/{ticket.key}/"))


def test_an_empty_comment_is_refused_on_the_form(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    response = browser_as(people["owner"]).post(f"/tickets/{ticket.key}/comments",
                                                {"body": "  ", "kind": "reply"})
    assert response.status_code == 422
    assert "评论为空" in text(response) or "空" in text(response)


def test_the_submitter_answers_a_question_and_the_ticket_resumes(people, browser_as):
    ticket = ticket_in("waiting", people=people)
    client = browser_as(people["submitter"])
    client.post(f"/tickets/{ticket.key}/comments", {"body": "Chrome 120，Windows 11",
                                                    "kind": "reply"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_work_log_steps_are_recorded_and_shown_as_code(people, browser_as):
    ticket = ticket_in("in_progress", people=people, plan="service_restart")
    client = browser_as(people["owner"])
    response = client.post(f"/tickets/{ticket.key}/steps", {
        "command": "systemctl restart nginx", "kind": "shell", "outcome": "succeeded",
        "target": "10.0.3.21", "output": "ok", "duration_minutes": "3"})
    assert response.status_code == 302
    page = text(client.get(f"/tickets/{ticket.key}/"))
    assert '<pre class="cmd"><code>systemctl restart nginx</code></pre>' in page


def test_no_step_before_approval(people, browser_as):
    ticket = ticket_in("awaiting_approval", people=people)
    client = browser_as(people["owner"])
    assert "记录已执行的操作" not in text(client.get(f"/tickets/{ticket.key}/"))
    response = client.post(f"/tickets/{ticket.key}/steps", {"command": "git push"})
    assert response.status_code == 409
    assert not ticket.work_log.exists()


def test_collaborators_are_pulled_in_and_released(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    client = browser_as(people["owner"])
    client.post(f"/tickets/{ticket.key}/collaborators", {"add": people["ops"].username})
    assert list(ticket.collaborators.all()) == [people["ops"]]
    assert browser_as(people["ops"]).get(f"/tickets/{ticket.key}/").status_code == 200
    client.post(f"/tickets/{ticket.key}/collaborators", {"remove": people["ops"].username})
    assert not ticket.collaborators.exists()
    refused = browser_as(people["support"]).post(f"/tickets/{ticket.key}/collaborators",
                                                 {"add": people["ops"].username})
    assert refused.status_code == 403


def test_editing_registration_fields(people, browser_as):
    ticket = TicketFactory(by=people["submitter"])
    client = browser_as(people["submitter"])
    response = client.post(f"/tickets/{ticket.key}/edit", {
        "version": ticket.version, "title": "用户无法登录（补充）",
        "description": ticket.description, "impact": ticket.impact,
        "urgency": ticket.urgency})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.title == "用户无法登录（补充）"
    event = TimelineEvent.objects.filter(ticket=ticket, kind="fields_changed").get()
    assert set(event.data["changed"]) == {"title"}


def test_an_edit_with_untouched_multiline_text_changes_only_what_was_changed(people, browser_as):
    ticket = TicketFactory(by=people["submitter"], description="第一行\n第二行")
    browser_as(people["submitter"]).post(f"/tickets/{ticket.key}/edit", {
        "version": ticket.version, "title": ticket.title, "impact": ticket.impact,
        "urgency": "immediate", "description": "第一行\r\n第二行"})
    event = TimelineEvent.objects.filter(ticket=ticket, kind="fields_changed").get()
    assert set(event.data["changed"]) == {"urgency", "priority"}


def test_files_are_attached_listed_and_downloaded(people, browser_as, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = ticket_in("analysing", people=people)
    client = browser_as(people["submitter"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("错误截图.png", b"\x89PNG fake", content_type="image/png")
    assert client.post(f"/tickets/{ticket.key}/attachments", {"file": upload}).status_code == 302
    staff = browser_as(people["owner"])
    note = SimpleUploadedFile("debug.log", b"secret log")
    staff.post(f"/tickets/{ticket.key}/attachments", {"file": note, "internal": "on"})
    page = text(client.get(f"/tickets/{ticket.key}/"))
    assert "错误截图.png" in page and "debug.log" not in page
    link = re.search(r'href="(/api/v1/tickets/[^"]+/attachments/\d+)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"\x89PNG fake"
    assert "debug.log" in text(staff.get(f"/tickets/{ticket.key}/"))


def test_posting_without_a_file_is_explained(people, browser_as):
    ticket = ticket_in("analysing", people=people)
    response = browser_as(people["owner"]).post(f"/tickets/{ticket.key}/attachments", {})
    assert response.status_code == 422
    assert "请选择文件" in text(response)


def test_the_submitter_rates_the_support_once_after_closure(people, browser_as):
    ticket = ticket_in("closed", people=people)
    client = browser_as(people["submitter"])
    assert "您对本次支持满意吗" in text(client.get(f"/tickets/{ticket.key}/"))
    refused = client.post(f"/tickets/{ticket.key}/rating", {"score": "9"})
    assert refused.status_code == 422 and "1 到 5" in text(refused)
    assert client.post(f"/tickets/{ticket.key}/rating",
                       {"score": "5", "comment": "响应很快"}).status_code == 302
    rating = SupportRating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment) == (5, "响应很快")
    assert TimelineEvent.objects.filter(ticket=ticket, kind="rating").count() == 1
    again = client.post(f"/tickets/{ticket.key}/rating", {"score": "1"})
    assert again.status_code == 409
    assert "您对本次支持满意吗" not in text(client.get(f"/tickets/{ticket.key}/"))


def test_only_the_submitter_rates_and_only_after_closure(people):
    from opsdesk.tickets.errors import PermissionRefused, TransitionRefused

    open_ticket = ticket_in("awaiting_verification", people=people)
    with pytest.raises(TransitionRefused):
        services.rate_support(ticket_id=open_ticket.pk, by=people["submitter"], score=4)
    closed = ticket_in("closed", people=people)
    with pytest.raises(PermissionRefused):
        services.rate_support(ticket_id=closed.pk, by=people["owner"], score=4)


def test_the_ticket_page_reads_a_constant_number_of_queries(people, browser_as,
                                                            django_assert_max_num_queries):
    ticket = ticket_in("in_progress", people=people, collaborators=("developer", "ops"))
    for n in range(10):
        services.add_comment(ticket_id=ticket.pk, by=people["owner"], body=f"进展 {n}")
    client = browser_as(people["owner"])
    with django_assert_max_num_queries(25):
        assert client.get(f"/tickets/{ticket.key}/").status_code == 200


def test_every_transition_has_a_label_the_page_can_show():
    assert all(str(t.label) for t in workflow.TRANSITIONS)


def test_submitter_roles_do_not_see_staff_forms(people, browser_as):
    ticket = ticket_in("in_progress", people=people)
    page = text(browser_as(people["submitter"]).get(f"/tickets/{ticket.key}/"))
    assert "记录已执行的操作" not in page and "添加开发或运维人员" not in page


def test_notification_links_open_the_ticket_page(people, browser_as):
    from urllib.parse import urlsplit

    from opsdesk.notify.messages import ticket_link

    ticket = ticket_in("assigned", people=people)
    path = urlsplit(ticket_link(ticket)).path
    page = browser_as(people["owner"]).get(path)
    assert page.status_code == 200 and ticket.title in text(page)


def test_the_timeline_names_changed_fields_and_values_in_the_readers_language(people,
                                                                              browser_as):
    ticket = ticket_in("awaiting_verification", people=people)
    page = text(browser_as(people["owner"]).get(f"/tickets/{ticket.key}/"))
    timeline = page.split('id="tl"')[1]
    assert "<dt>问题原因</dt>" in timeline and "<dt>cause</dt>" not in timeline
    assert "— → 代码" in timeline  # the problem type's label, not its code


def test_pages_forbid_scripts_from_anywhere_but_opsdesk(people, browser_as):
    ticket = TicketFactory(by=people["submitter"])
    response = browser_as(people["submitter"]).get(f"/tickets/{ticket.key}/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
