"""The monthly review page: for staff only; its recurring problems rendered with links to each
ticket; every card offers its figure as CSV and XLSX with the page's filters."""

from __future__ import annotations

import html

import pytest
import time_machine
from django.test import Client

from tests.reports.conftest import NOW, file, file_alert


def page(client: Client, **params: str) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get("/dashboards/review/", params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def head(people) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people["head"])
    return client


def test_recurring_problems_link_their_tickets(head, history):
    text = page(head, months="3")
    section = text[text.index('id="recurring-problems"'):text.index('id="recurring-alerts"')]
    for name in ("rejected", "reopened", "sept"):
        assert f'href="/tickets/{history[name]}/"' in section
    assert section.index(history["rejected"]) < section.index(history["sept"])  # newest first
    assert "支付模块" in section
    assert "Environment" in section


def test_recurring_alerts_and_their_threshold(head, api):
    with time_machine.travel(NOW.replace(day=18), tick=False):
        keys = [file_alert(api["duty"], "DiskUsageHigh", "10.0.3.7") for _ in range(3)]
        file_alert(api["duty"], "DiskUsageHigh", "10.0.3.8")
        file(api["duty"], title="<script>alert(1)</script>", source_kind="alert",
             channel="alertmanager", submitter_name="Alertmanager", alert_rule="DiskUsageHigh",
             alert_host="10.0.3.7", impact="some_users", urgency="high")
    text = page(head, months="3")
    section = text[text.index('id="recurring-alerts"'):]
    assert "10.0.3.7" in section
    assert "10.0.3.8" not in section  # once only
    assert all(f'href="/tickets/{key}/"' in section for key in keys)
    assert "<script>alert(1)</script>" not in section  # a title stays text
    assert html.escape("<script>alert(1)</script>") in section


def test_min_tickets_narrows_and_a_bad_value_falls_back(head, api):
    with time_machine.travel(NOW.replace(day=18), tick=False):
        for _ in range(2):
            file_alert(api["duty"], "CPUUsageHigh", "10.0.9.9")
    assert "10.0.9.9" in page(head, min_tickets="2")
    assert "10.0.9.9" not in page(head, min_tickets="3")
    fallback = page(head, min_tickets="1", months="24")
    assert 'name="min_tickets" value="3"' in fallback
    assert '<option value="12" selected>' in fallback


def test_every_card_downloads_with_the_filters(head, payment):
    text = html.unescape(page(head, months="6", module="payment", min_tickets="4"))
    for name in ("reopen-rate", "satisfaction", "mtta", "mttr"):
        for file_format in ("csv", "xlsx"):
            assert (f'href="/api/v1/reports/{name}?months=6&module=payment&format={file_format}"'
                    in text)
    for name in ("recurring-problems", "recurring-alerts"):
        assert (f'href="/api/v1/reports/{name}?months=6&module=payment&min_tickets=4&format=csv"'
                in text)
    assert 'href="/api/v1/reports/review-workbook?months=6&module=payment&min_tickets=4"' in text
    assert "reports/review.js" in text


def test_dashboard_cards_download_with_the_filters(head, payment):
    text = html.unescape(head.get("/dashboards/", {"days": "7", "module": "payment"})
                         .content.decode())
    for name in ("open-tickets", "backlog-age", "inflow", "times", "sla-compliance"):
        assert f'href="/api/v1/reports/{name}?days=7&module=payment&format=xlsx"' in text
    assert 'href="/api/v1/reports/dashboard-workbook?days=7&module=payment"' in text
    assert 'href="/dashboards/review/"' in text


def test_submitter_is_refused_and_stranger_sent_to_sign_in(people, db):
    client = Client()
    client.force_login(people["submitter"])
    assert client.get("/dashboards/review/").status_code == 403
    response = Client().get("/dashboards/review/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
