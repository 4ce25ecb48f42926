"""Prometheus reads the desk's state at /metrics: tickets by status and priority, SLA at risk
and breached, intake by channel and outcome, the task queue, the dispatch lag and failing
notifications, each counted from the database at the scrape. Nobody reads it without the
metrics token or an allowed address: never open by default."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from typing import Any

import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from opsdesk.intake import integrations
from opsdesk.intake.models import IntegrationKind
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.tasks import deliver
from opsdesk.tickets.choices import Impact, Urgency
from tests.factories import TicketFactory, ticket_in
from tests.intake.conftest import Sender

START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
TOKEN = secrets.token_urlsafe(24)


def scrape(client: Client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.content.decode())
            for sample in family.samples}


@pytest.fixture
def token(settings: Any) -> str:
    settings.OPSDESK_METRICS_TOKEN = TOKEN
    return TOKEN


# Who may read them.

@pytest.mark.django_db
def test_nobody_reads_them_by_default_not_even_from_this_machine(client):
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1",
                        headers={"Authorization": "Bearer anything-at-all-goes"})
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"
    assert b"opsdesk_tickets" not in answer.content


@pytest.mark.django_db
def test_the_token_opens_them_and_a_wrong_or_missing_one_is_asked_for(client, token):
    assert scrape(client)
    for headers in ({}, {"Authorization": f"Bearer {token}x"}, {"Authorization": token},
                    {"Authorization": f"Basic {token}"}):
        answer = client.get("/metrics", headers=headers, HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 401, headers
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["message"] == (
            "Send the metrics token as 'Authorization: Bearer <token>'.")


@pytest.mark.django_db
def test_an_allowed_network_reads_them_without_a_token(client, settings):
    settings.OPSDESK_METRICS_ALLOW = [ip_network("10.8.0.0/16")]
    assert client.get("/metrics", REMOTE_ADDR="10.8.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.9.3.4").status_code == 403


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_client_it_forwards_for_is_judged(client, settings):
    settings.OPSDESK_METRICS_ALLOW = [ip_network("10.8.0.0/16")]
    settings.OPSDESK_TRUSTED_PROXIES = [ip_network("192.0.2.10/32")]
    through_proxy = {"REMOTE_ADDR": "192.0.2.10"}
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.8.1.1", **through_proxy
                      ).status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.8.1.1, 203.0.113.7", **through_proxy
                      ).status_code == 403
    # Anyone else's X-Forwarded-For is their own writing.
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.8.1.1"
                      ).status_code == 403


# What they say.

@pytest.mark.django_db
def test_tickets_are_counted_by_status_and_priority(client, token, people):
    TicketFactory(by=people["submitter"], impact=Impact.ALL_USERS, urgency=Urgency.IMMEDIATE)
    TicketFactory(by=people["submitter"], impact=Impact.ALL_USERS, urgency=Urgency.IMMEDIATE)
    ticket_in("assigned", people=people, impact=Impact.FEW_USERS, urgency=Urgency.LOW)

    found = scrape(client)
    assert found[("opsdesk_tickets", (("priority", "urgent"), ("status", "new")))] == 2
    assert found[("opsdesk_tickets", (("priority", "low"), ("status", "assigned")))] == 1
    # Every status and priority is there, counted or not, so alerts never miss a series.
    assert found[("opsdesk_tickets", (("priority", "high"), ("status", "closed")))] == 0
    assert sum(v for (name, _), v in found.items() if name == "opsdesk_tickets") == 3


@pytest.mark.django_db
def test_sla_at_risk_and_breached_as_the_queues_count_them(client, token, people):
    urgent = {"by": people["submitter"], "impact": Impact.ALL_USERS,
              "urgency": Urgency.IMMEDIATE}  # a response within 15 minutes, around the clock
    with time_machine.travel(START, tick=False) as traveller:
        TicketFactory(**urgent)
        traveller.shift(timedelta(minutes=4))
        TicketFactory(**urgent)
        traveller.shift(timedelta(minutes=11))
        TicketFactory(**urgent)
        traveller.shift(timedelta(minutes=1))  # 16, 12 and 1 minutes old

        found = scrape(client)
    assert found[("opsdesk_sla_breached_tickets", ())] == 1
    assert found[("opsdesk_sla_at_risk_tickets", ())] == 1


@pytest.mark.django_db
def test_intake_is_counted_by_channel_and_outcome(client, token):
    integration, secret = integrations.create_integration(
        name="prometheus-prod", kind=IntegrationKind.ALERTMANAGER, options={})
    sender = Sender(integration, secret)
    alert = {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db1"},
             "annotations": {"summary": "磁盘将满"}, "startsAt": "2026-12-01T01:00:00Z",
             "fingerprint": "f1"}
    notification = {"version": "4", "status": "firing", "receiver": "opsdesk",
                    "groupKey": "{}:{alertname=\"DiskFull\"}", "alerts": [alert]}
    sender.send(notification)
    assert sender.post(None, raw=b"{not json").status_code == 422

    found = scrape(client)
    assert found[("opsdesk_intake_messages",
                  (("channel", "alertmanager"), ("outcome", "accepted")))] == 1
    assert found[("opsdesk_intake_messages",
                  (("channel", "alertmanager"), ("outcome", "refused")))] == 1
    assert found[("opsdesk_intake_messages", (("channel", "email"), ("outcome", "refused")))] == 0


@pytest.mark.django_db
def test_the_task_queue_counts_what_is_due_and_how_long_it_waited(client, token):
    with time_machine.travel(START, tick=False) as traveller:
        deliver.enqueue(1)
        deliver.using(run_after=START + timedelta(minutes=5)).enqueue(2)
        deliver.using(run_after=START + timedelta(hours=5)).enqueue(3)  # not due: not waiting
        traveller.shift(timedelta(minutes=7))
        found = scrape(client)
    assert found[("opsdesk_task_queue_depth", ())] == 2
    assert found[("opsdesk_task_queue_oldest_age_seconds", ())] == 7 * 60


@pytest.mark.django_db
def test_the_dispatch_lag_is_the_age_of_the_oldest_ticket_waiting(client, token, people,
                                                                  settings):
    found = scrape(client)
    assert found[("opsdesk_dispatch_backlog", ())] == 0
    assert found[("opsdesk_dispatch_lag_seconds", ())] == 0
    settings.OPSDESK_DISPATCH = "worker"  # and no worker runs
    with time_machine.travel(START, tick=False) as traveller:
        TicketFactory(by=people["submitter"])
        traveller.shift(timedelta(seconds=30))
        TicketFactory(by=people["submitter"])
        traveller.shift(timedelta(seconds=40))
        found = scrape(client)
    assert found[("opsdesk_dispatch_backlog", ())] == 2
    assert found[("opsdesk_dispatch_lag_seconds", ())] == 70


@pytest.mark.django_db
def test_failing_notifications_are_counted_by_status_and_channel(client, token):
    for status, channel in [(DeliveryStatus.FAILED, "dingtalk"), (DeliveryStatus.ABANDONED,
                            "email"), (DeliveryStatus.ABANDONED, "email"),
                            (DeliveryStatus.SENT, "email")]:
        Delivery.objects.create(
            notification_kind="assigned", notification_key=f"k{Delivery.objects.count()}",
            dedupe_key=secrets.token_hex(32), recipient_name="王伟", channel_kind=channel,
            language="zh-hans", subject="[OPS-1] 工单已分派给您", body="…", status=status)

    found = scrape(client)
    assert found[("opsdesk_notification_failures",
                  (("channel", "dingtalk"), ("status", "failed")))] == 1
    assert found[("opsdesk_notification_failures",
                  (("channel", "email"), ("status", "abandoned")))] == 2
    assert found[("opsdesk_notification_failures", (("channel", "email"), ("status", "failed")))] \
        == 0


@pytest.mark.django_db
def test_a_scrape_costs_the_same_few_queries_whatever_the_desk_holds(
        client, token, people, django_assert_num_queries):
    # One aggregate per figure: tickets, SLA (2), intake, tasks, dispatching (2), notifications,
    # workers.
    with django_assert_num_queries(9):
        scrape(client)
    for _ in range(5):
        TicketFactory(by=people["submitter"])
    with django_assert_num_queries(9):
        scrape(client)


@pytest.mark.django_db
def test_openmetrics_for_a_scraper_that_asks_for_it(client, token):
    answer = client.get("/metrics", headers={
        "Authorization": f"Bearer {token}",
        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"})
    assert answer["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert answer.content.endswith(b"# EOF\n")


def test_a_short_token_or_a_wrong_network_stops_the_start(tmp_path):
    from tests.test_deploy_settings import _run

    short = _run(tmp_path, "-c", "import django; django.setup()", OPSDESK_METRICS_TOKEN="abc123")
    assert short.returncode != 0 and "OPSDESK_METRICS_TOKEN" in short.stderr
    wrong = _run(tmp_path, "-c", "import django; django.setup()",
                 OPSDESK_METRICS_ALLOW="10.0.0.0/8, monitoring.local")
    assert wrong.returncode != 0
    assert "OPSDESK_METRICS_ALLOW" in wrong.stderr and "monitoring.local" in wrong.stderr
