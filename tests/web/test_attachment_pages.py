"""Files where people need them: screenshots and files sent with the guided report, images
shown on the ticket page (told by their content, served so that nothing in them can run),
other files downloaded, and sizes in KB/MB in the reader's language."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from opsdesk.tickets import services
from opsdesk.tickets.models import Attachment, Ticket
from opsdesk.tickets.storage import file_size, image_type
from tests.factories import TicketFactory, ticket_in
from tests.web.conftest import text

pytestmark = pytest.mark.django_db


def png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (207, 34, 46)) -> bytes:
    """A real PNG of one colour (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 16
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

REPORT = {
    "title": "报表页面打不开", "impact": "few_users", "urgency": "normal",
    "description": "点击导出后页面空白", "occurred_at": "2026-11-25T09:10",
    "steps_to_reproduce": "打开报表页，点导出", "error_message": "无", "impact_scope": "财务部",
    "submitter_department": "财务部", "submitter_contact": "13800000000",
}


def readable(page: str) -> str:
    return page.replace("\xa0", " ")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_images_are_told_by_their_content_not_their_name():
    assert image_type(png()) == "image/png"
    assert image_type(JPEG) == "image/jpeg"
    assert image_type(GIF) == "image/gif"
    assert image_type(WEBP) == "image/webp"
    for not_an_image in (SVG, b"<html><script>alert(1)</script>", b"RIFF\x00\x00\x00\x00WAVE",
                         b"", b"\x89PN"):
        assert image_type(not_an_image) is None


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0.0 KB"), (1, "0.1 KB"), (500, "0.5 KB"), (10 * 1024, "10.0 KB"),
    (1536 * 1024, "1.5 MB"), (20 << 20, "20.0 MB"), (3 << 30, "3.0 GB")])
def test_sizes_are_in_kb_and_mb_never_bytes(size, shown):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert readable(file_size(size)) == shown


def test_a_guided_report_carries_its_screenshots_and_files(people, browser_as, media):
    client = browser_as(people["submitter"])
    form = text(client.get("/portal/new/"))
    assert 'enctype="multipart/form-data"' in form and 'name="files" multiple' in form
    assert "20.0 MB" in readable(form)  # the limit, said in MB

    response = client.post("/portal/new/", {**REPORT, "files": [
        SimpleUploadedFile("截图-20261125.png", png(), content_type="image/png"),
        SimpleUploadedFile("导出日志.txt", b"ERROR export failed\n" * 30,
                           content_type="text/plain"),
    ]})

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.key}/"
    files = {a.name: a for a in Attachment.objects.filter(ticket=ticket)}
    assert set(files) == {"截图-20261125.png", "导出日志.txt"}
    assert files["截图-20261125.png"].file.read() == png()
    assert not any(a.internal for a in files.values())
    assert all(a.uploaded_by == people["submitter"] for a in files.values())
    page = readable(text(client.get(response.url)))
    image = f'/tickets/{ticket.key}/attachments/{files["截图-20261125.png"].pk}'
    assert f'<img src="{image}"' in page
    assert f'"/tickets/{ticket.key}/attachments/{files["导出日志.txt"].pk}"' not in page
    assert "0.6 KB" in page  # the log's 600 bytes


def test_a_report_without_files_is_filed_as_before(people, browser_as, media):
    response = browser_as(people["submitter"]).post("/portal/new/", REPORT)
    assert response.status_code == 302
    assert Ticket.objects.count() == 1 and not Attachment.objects.exists()


@pytest.mark.parametrize(("language", "words"), [
    ("zh-hans", "截图.png"), ("en", "is larger than 10.0 KB")])
def test_a_report_with_a_file_over_the_limit_is_not_filed_and_keeps_what_was_typed(
        people, browser_as, media, settings, language, words):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 10 * 1024
    client = browser_as(people["submitter"], language)

    response = client.post("/portal/new/", {**REPORT, "files": [
        SimpleUploadedFile("截图.png", png() + b"\x00" * (10 * 1024))]})

    assert response.status_code == 413
    page = readable(text(response))
    banner = page.split('class="error banner" role="alert">')[1].split("</p>")[0]
    assert words in banner and "10.0 KB" in banner
    assert "点击导出后页面空白" in page and "报表页面打不开" in page  # typed text kept
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_a_file_the_disk_cannot_keep_does_not_undo_the_report(people, browser_as, media,
                                                              settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "tests.tickets.test_attachments.FullDiskStorage"}}
    client = browser_as(people["submitter"], "en")

    response = client.post("/portal/new/", {**REPORT, "files": [
        SimpleUploadedFile("核心交换机日志.tar", b"x" * 300_000)]}, follow=True)

    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == f"/tickets/{ticket.key}/"
    page = text(response)
    assert "核心交换机日志.tar was not attached" in page and "full" in page
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(("content", "kind"), [
    (png(), "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")])
def test_an_image_is_served_as_itself_and_cannot_run_anything(people, browser_as, media,
                                                             content, kind):
    ticket = TicketFactory(by=people["submitter"])
    # Named and declared as something else: only the content counts.
    attachment = services.add_attachment(ticket_id=ticket.pk, by=people["submitter"],
                                         name="screen.bin", content=content,
                                         content_type="application/octet-stream")

    response = browser_as(people["submitter"]).get(
        f"/tickets/{ticket.key}/attachments/{attachment.pk}")

    assert response.status_code == 200 and response["Content-Type"] == kind
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == content


@pytest.mark.parametrize(("name", "content", "declared"), [
    ("looks-like.png", b"<html><script>alert(1)</script></html>", "image/png"),
    ("diagram.svg", SVG, "image/svg+xml"),
    ("report.pdf", b"%PDF-1.7\n", "application/pdf"),
])
def test_anything_else_is_downloaded_whatever_its_name_says(people, browser_as, media, name,
                                                            content, declared):
    ticket = TicketFactory(by=people["submitter"])
    attachment = services.add_attachment(ticket_id=ticket.pk, by=people["submitter"],
                                         name=name, content=content, content_type=declared)
    client = browser_as(people["submitter"])

    response = client.get(f"/tickets/{ticket.key}/attachments/{attachment.pk}")

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "<img" not in text(client.get(f"/tickets/{ticket.key}/")).split('id="files"')[1]


def test_files_are_served_only_to_those_who_may_read_them(people, browser_as, media):
    ticket = ticket_in("analysing", people=people)
    shown = services.add_attachment(ticket_id=ticket.pk, by=people["owner"], name="a.png",
                                    content=png())
    internal = services.add_attachment(ticket_id=ticket.pk, by=people["owner"],
                                       name="内部.png", content=png(), internal=True)
    url = f"/tickets/{ticket.key}/attachments/"

    assert browser_as(people["owner"]).get(url + str(internal.pk)).status_code == 200
    submitter = browser_as(people["submitter"])
    assert submitter.get(url + str(shown.pk)).status_code == 200
    assert submitter.get(url + str(internal.pk)).status_code == 404
    assert f'"{url}{internal.pk}"' not in text(submitter.get(f"/tickets/{ticket.key}/"))
    assert browser_as(people["other_submitter"]).get(url + str(shown.pk)).status_code == 404
    assert submitter.get(url + "999999").status_code == 404
    assert Client().get(url + str(shown.pk)).status_code == 302  # to sign in
    assert submitter.post(url + str(shown.pk)).status_code == 405


def test_a_file_gone_from_the_disk_is_not_found_and_shows_no_thumbnail(people, browser_as,
                                                                       media):
    ticket = TicketFactory(by=people["submitter"])
    attachment = services.add_attachment(ticket_id=ticket.pk, by=people["submitter"],
                                         name="a.png", content=png())
    attachment.file.storage.delete(attachment.file.name)
    client = browser_as(people["submitter"])

    assert client.get(f"/tickets/{ticket.key}/attachments/{attachment.pk}").status_code == 404
    page = text(client.get(f"/tickets/{ticket.key}/"))
    assert "a.png" in page and "<img" not in page.split('id="files"')[1]
