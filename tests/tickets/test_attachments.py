"""Files on a ticket: who may attach and download them, and what a hostile file cannot do."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Attachment
from tests.factories import ticket_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(api, key, name, content, *, internal=False, content_type="application/octet-stream"):
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    if internal:
        data["internal"] = "true"
    return api.client.post(f"/api/v1/tickets/{key}/attachments", data)


def test_submitter_attaches_a_screenshot_and_staff_download_it_unchanged(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10

    response = upload(api["submitter"], ticket.key, "支付失败截图.png", content,
                      content_type="image/png")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "支付失败截图.png"
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    download = api["owner"].client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "application/octet-stream"
    assert "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    event = api["owner"].timeline(ticket.key)[-1]
    assert event["kind"] == "attachment"
    assert event["data"]["name"] == "支付失败截图.png"


def test_a_file_name_cannot_name_a_path_and_html_is_never_served_inline(api, people, tmp_path):
    ticket = ticket_in(Status.ASSIGNED, people=people)

    body = upload(api["owner"], ticket.key, "../../etc/\x00evil.html",
                  b"<script>alert(1)</script>", content_type="text/html").json()

    assert body["name"] == "evil.html"
    stored = Attachment.objects.get(pk=body["id"])
    assert (tmp_path / stored.file.name).resolve().is_relative_to(tmp_path / "attachments")
    assert "evil" not in stored.file.name
    download = api["owner"].client.get(body["url"])
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Security-Policy"] == "sandbox"


def test_internal_files_are_for_staff_only(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)

    refused = upload(api["submitter"], ticket.key, "x.txt", b"x", internal=True)
    internal = upload(api["owner"], ticket.key, "root-cause.txt", b"db lock", internal=True)

    assert refused.status_code == 403
    assert internal.status_code == 201
    assert api["submitter"].get(f"/tickets/{ticket.key}/attachments").json() == []
    assert api["submitter"].client.get(internal.json()["url"]).status_code == 404
    listed = api["owner"].get(f"/tickets/{ticket.key}/attachments").json()
    assert [a["name"] for a in listed] == ["root-cause.txt"]


def test_another_submitter_can_neither_attach_nor_download(api, people):
    ticket = ticket_in(Status.ASSIGNED, people=people)
    mine = upload(api["submitter"], ticket.key, "log.txt", b"trace").json()

    assert upload(api["other_submitter"], ticket.key, "x.txt", b"x").status_code == 404
    assert api["other_submitter"].client.get(mine["url"]).status_code == 404
    assert Attachment.objects.count() == 1


def test_too_large_a_file_is_refused_with_the_limit_and_nothing_is_kept(api, people, settings,
                                                                         tmp_path):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 1000
    ticket = ticket_in(Status.ASSIGNED, people=people)

    response = upload(api["submitter"], ticket.key, "dump.bin", b"0" * 1001)

    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
    assert "1000" in response.json()["message"]
    assert Attachment.objects.count() == 0
    assert not (tmp_path / "attachments").exists()


def test_a_closed_ticket_takes_no_more_files(api, people):
    ticket = ticket_in(Status.ARCHIVED, people=people)

    response = upload(api["owner"], ticket.key, "late.txt", b"late")

    assert response.status_code == 409
    assert Attachment.objects.count() == 0
