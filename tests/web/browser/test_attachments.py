"""Screenshots on the guided report in a real browser: one pasted from the clipboard and one
file dropped on the form go with the report, and the ticket page shows the image inline,
with no script error or policy violation on either page."""

from __future__ import annotations

import base64

import pytest
from django.utils import translation

from opsdesk.tickets.models import Attachment, Ticket
from tests.web.test_attachment_pages import png

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# A File in the page from base64 bytes, then handed to the page as a paste or a drop.
PASTE = """([data, type]) => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    const carried = new DataTransfer();
    carried.items.add(new File([bytes], "image.png", {type: type}));
    document.querySelector("#description").dispatchEvent(new ClipboardEvent("paste",
        {clipboardData: carried, bubbles: true, cancelable: true}));
}"""
DROP = """([data, name]) => {
    const carried = new DataTransfer();
    carried.items.add(new File([data], name, {type: "text/plain"}));
    const form = document.querySelector("form.guided");
    form.dispatchEvent(new DragEvent("dragover", {dataTransfer: carried, bubbles: true,
                                                  cancelable: true}));
    form.dispatchEvent(new DragEvent("drop", {dataTransfer: carried, bubbles: true,
                                              cancelable: true}));
}"""


def test_a_pasted_screenshot_and_a_dropped_file_go_with_the_report(people, people_at_browsers,
                                                                   settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    submitter = people_at_browsers(people["submitter"])
    page = submitter.page
    submitter.goto("/portal/new/")
    page.fill("#title", "报表导出后页面空白")
    page.check("input[name=impact][value=few_users]")
    page.check("input[name=urgency][value=normal]")
    page.fill("#description", "点击导出后页面空白，截图如下")
    page.fill("#occurred_at", "2026-11-25T09:10")
    page.fill("#steps_to_reproduce", "打开报表页，点导出")
    page.fill("#error_message", "无")
    page.fill("#impact_scope", "财务部")

    screenshot = png(40, 24)
    page.evaluate(PASTE, [base64.b64encode(screenshot).decode(), "image/png"])
    page.evaluate(DROP, ["ERROR export failed\n" * 40, "导出日志.txt"])

    chosen = page.locator("[data-chosen-files] li")
    assert chosen.count() == 2
    assert chosen.nth(0).locator("img").count() == 1  # a thumbnail of the screenshot
    assert page.evaluate("document.querySelector('#files').files.length") == 2
    assert "0.8 KB" in chosen.nth(1).inner_text().replace("\xa0", " ")
    submitter.shot("new-report-with-files")
    with page.expect_navigation():
        page.click("form.guided button[type=submit]")

    ticket = Ticket.objects.get()
    dropped = Attachment.objects.get(ticket=ticket, name="导出日志.txt")
    pasted = Attachment.objects.exclude(pk=dropped.pk).get(ticket=ticket)
    with translation.override("zh-hans"):
        pasted_name = translation.gettext("screenshot")  # 截图
    assert pasted.name.startswith(pasted_name + "-") and pasted.name.endswith(".png")
    assert pasted.file.read() == screenshot
    thumbnail = page.locator(f"img[src='/tickets/{ticket.key}/attachments/{pasted.pk}']")
    thumbnail.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 40",
                           arg=thumbnail.element_handle())
    submitter.shot("ticket-with-screenshot")


def test_files_over_the_limit_are_stopped_before_the_report_is_sent(people, people_at_browsers,
                                                                    settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 1024
    submitter = people_at_browsers(people["submitter"], "en")
    page = submitter.page
    submitter.goto("/portal/new/")
    page.fill("#title", "too much")
    page.evaluate(DROP, ["x" * 800, "a.log"])
    page.evaluate(DROP, ["x" * 800, "b.log"])

    problem = page.locator("[data-files-error]")
    assert problem.is_visible()
    assert "1.6 KB" in problem.inner_text().replace("\xa0", " ")
    page.click("form.guided button[type=submit]")
    assert page.url.endswith("/portal/new/") and not Ticket.objects.exists()

    page.locator("[data-chosen-files] li").nth(1).locator("button").click()
    assert problem.is_hidden()
    assert page.evaluate("document.querySelector('#files').files.length") == 1
