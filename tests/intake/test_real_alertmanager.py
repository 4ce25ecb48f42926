"""The real Alertmanager (Debian's prometheus-alertmanager) notifies the test server: alerts
posted to its API become tickets, one per fingerprint, and their resolutions close them.

Alertmanager runs on its own ports with its own storage and without HA gossip (which would
hold notifications back until the cluster settles). group_by ['...'] makes every alert its
own group, so every alert is its own notification.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connection

from opsdesk.intake import integrations
from opsdesk.intake.models import Alert, InboundMessage, InboundStatus
from opsdesk.tickets.choices import Channel, Priority, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.intake.payloads import Fault, rfc3339

BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")
T = TypeVar("T")


def find_alertmanager() -> str:
    """The binary, or a skip saying how to get it (a failure on CI, where it must be there)."""
    for name in BINARY_NAMES:
        path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
        if path:
            return path
    reason = ("the real Alertmanager is not installed (Debian package prometheus-alertmanager; "
              "run scripts/ensure_test_tools.sh)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningAlertmanager:
    url: str
    log_path: Path
    db_lock: AbstractContextManager[Any]

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts", data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_for(self, what: str, check: Callable[[], T | None], timeout: float = 15.0) -> T:
        """Poll the database until ``check`` returns something truthy, or fail by the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            with self.db_lock:
                found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"Waited {timeout:.0f} s for {what}. Alertmanager said:\n{self.log()}")
            time.sleep(0.1)


def _serialised(app: Callable[..., Any], lock: threading.Lock) -> Callable[..., Any]:
    def serialised_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with lock:
            return app(environ, start_response)

    return serialised_app


@pytest.fixture
def db_lock(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> AbstractContextManager[Any]:
    """The in-memory SQLite test database is one connection that the test and every thread of
    the live server share: there, requests (and the test's own reads) take turns. On
    PostgreSQL each server thread has its own connection and requests run concurrently."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return nullcontext()
    lock = threading.Lock()
    httpd = live_server.thread.httpd
    monkeypatch.setattr(httpd, "application", _serialised(httpd.application, lock))
    return lock


@contextmanager
def running_alertmanager(live_server: Any, db_lock: AbstractContextManager[Any], tmp_path: Path,
                         *, group_by: list[str], webhook: dict[str, Any] | None = None,
                         group_wait: str = "0s", **options: Any) -> Iterator[RunningAlertmanager]:
    """Alertmanager notifying an integration of ``options`` in groups of ``group_by``, its
    webhook configured with ``webhook`` besides the address and the secret."""
    binary = find_alertmanager()
    _integration, secret = integrations.create_integration(name="alertmanager-e2e",
                                                       kind="alertmanager", options=options)
    config = tmp_path / "alertmanager.yml"
    config.write_text(json.dumps({  # YAML is a superset of JSON
        "route": {
            "receiver": "opsdesk", "group_by": group_by,
            # The smallest waits it accepts: the first notification at once, the resolution
            # at the next flush of its group, a second later.
            "group_wait": group_wait, "group_interval": "1s", "repeat_interval": "1h",
        },
        "receivers": [{"name": "opsdesk", "webhook_configs": [{
            "url": f"{live_server.url}/api/v1/intake/alertmanager",
            "send_resolved": True,
            "http_config": {"authorization": {"credentials": secret}},
            **(webhook or {}),
        }]}],
    }))
    port = free_port()
    log_path = tmp_path / "alertmanager.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
             "--log.level=debug"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    running = RunningAlertmanager(f"http://127.0.0.1:{port}", log_path, db_lock)
    try:
        _wait_ready(running, process)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def alertmanager(live_server: Any, db_lock: AbstractContextManager[Any],
                 tmp_path: Path) -> Iterator[RunningAlertmanager]:
    with running_alertmanager(live_server, db_lock, tmp_path, group_by=["..."]) as running:
        yield running


def _wait_ready(running: RunningAlertmanager, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Alertmanager exited ({process.returncode}):\n{running.log()}")
        try:
            with urllib.request.urlopen(f"{running.url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"Alertmanager was not ready in 10 s:\n{running.log()}")


STARTED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
NAMED = [
    Fault(alertname="NodeDown", instance="10.0.3.21:9100", severity="critical",
          summary="节点 10.0.3.21 无法访问", description="node_exporter 已 3 分钟没有响应。",
          starts_at=STARTED),
    Fault(alertname="NodeDown", instance="10.0.3.22:9100", severity="critical",
          summary="节点 10.0.3.22 无法访问", description="node_exporter 已 3 分钟没有响应。",
          starts_at=STARTED),
    Fault(alertname="MySQLReplicationLag", instance="db-02.prod.example:9104", job="mysql",
          severity="warning", summary="Replication lag above 30 s",
          description="db-02 is 45 s behind its primary.", starts_at=STARTED),
    Fault(alertname="NginxHigh5xxRate", instance="10.0.5.8:9113", job="nginx",
          severity="error", summary="网关 5xx 比例超过 5%",
          description="最近 5 分钟 5xx 比例 7.2%。", starts_at=STARTED),
]
# And a small storm: a rack whose disks fill at once, each host its own alert.
RACK = [
    Fault(alertname="DiskWillFillIn4Hours", instance=f"10.0.7.{host}:9100", severity="warning",
          summary=f"10.0.7.{host} 的 /data 将在 4 小时内写满",
          description="Filesystem /data has 6% left and grows 2 GB/h.", starts_at=STARTED)
    for host in range(10, 46)
]
FAULTS = NAMED + RACK


def _as_posted(fault: Fault, *, resolved_at: datetime | None = None) -> dict[str, Any]:
    """An alert the way Prometheus posts it to Alertmanager's API v2."""
    alert = {
        "labels": fault.labels,
        "annotations": {"summary": fault.summary, "description": fault.description},
        "startsAt": rfc3339(fault.starts_at),
        "generatorURL": "http://prometheus.ops.example:9090/graph?g0.expr=up",
    }
    if resolved_at is not None:
        alert["endsAt"] = rfc3339(resolved_at)
    return alert


# The live server commits for real; serialized_rollback puts back the data migrations' rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_alerts_through_the_real_alertmanager_become_tickets_and_resolve(
    alertmanager: RunningAlertmanager,
) -> None:
    alertmanager.post_alerts([_as_posted(f) for f in FAULTS])

    tickets = alertmanager.wait_for(
        f"{len(FAULTS)} tickets",
        lambda: (list(Ticket.objects.filter(alerts__isnull=False).order_by("pk"))
                 if Ticket.objects.count() >= len(FAULTS) else None),
    )
    with alertmanager.db_lock:
        assert len(tickets) == Ticket.objects.count() == len(FAULTS)
        alerts = {a.identity: a for a in Alert.objects.select_related("ticket")}
        # Our fingerprints are Alertmanager's: one alert per fault, each with its own ticket.
        assert set(alerts) == {f.fingerprint for f in FAULTS}
        node = alerts[NAMED[0].fingerprint].ticket
        assert (node.alert_host, node.alert_rule, node.alert_level) == (
            "10.0.3.21", "NodeDown", "critical")
        assert node.priority == Priority.URGENT and node.channel == Channel.ALERTMANAGER
        assert node.alert_symptom == "节点 10.0.3.21 无法访问"
        assert node.alert_at == STARTED
        assert alerts[NAMED[3].fingerprint].ticket.priority == Priority.HIGH
        assert alerts[RACK[0].fingerprint].ticket.alert_host == "10.0.7.10"
        # Every notification answered in time: one each, none sent again.
        assert list(InboundMessage.objects.values_list("status", flat=True)) == [
            InboundStatus.PROCESSED] * len(FAULTS)
        assert {a.occurrences for a in alerts.values()} == {1}

    resolved, still_firing = [*NAMED[:2], *RACK[:10]], [*NAMED[2:], *RACK[10:]]
    ended = datetime.now(UTC) - timedelta(seconds=30)
    alertmanager.post_alerts([_as_posted(f, resolved_at=ended) for f in resolved])

    def closed_tickets() -> list[Ticket] | None:
        closed = list(Ticket.objects.filter(status=Status.CLOSED))
        return closed if len(closed) >= len(resolved) else None

    closed = alertmanager.wait_for("the resolved alerts' tickets to close", closed_tickets)
    with alertmanager.db_lock:
        assert {t.pk for t in closed} == {alerts[f.fingerprint].ticket_id for f in resolved}
        for fault in resolved:
            alert = Alert.objects.get(identity=fault.fingerprint)
            assert not alert.firing and alert.resolved_at is not None
        for fault in still_firing:
            alert = Alert.objects.select_related("ticket").get(identity=fault.fingerprint)
            assert alert.firing and alert.ticket.status != Status.CLOSED
        assert Ticket.objects.count() == len(FAULTS)  # a resolution never opens a ticket
        assert InboundMessage.objects.filter(status=InboundStatus.PROCESSED).count() == len(
            FAULTS) + len(resolved)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_group_over_max_alerts_is_one_ticket_with_its_alerts_and_the_truncation(
    live_server: Any, db_lock: AbstractContextManager[Any], tmp_path: Path,
) -> None:
    """Grouped by rule, tracked by group key, cut by max_alerts: the ticket keeps the alerts
    Alertmanager sent, says how many it left out, and rises to the most severe one."""
    # Starting now, with three seconds' wait: the group's first notification holds all five
    # alerts of the one POST. Alertmanager flushes a new group at once when its alert started
    # longer than the wait ago, and a loaded machine then sent the first few, untruncated.
    starts_at = datetime.now(UTC).replace(microsecond=0)
    rack = [Fault(alertname="DiskWillFillIn4Hours", instance=f"10.0.7.{host}:9100",
                  severity="critical" if host == 12 else "warning", starts_at=starts_at)
            for host in range(10, 15)]
    with running_alertmanager(live_server, db_lock, tmp_path, group_by=["alertname"],
                              webhook={"max_alerts": 3}, dedupe_by="group_key",
                              group_wait="3s") as running:
        running.post_alerts([_as_posted(f) for f in rack])
        alert = running.wait_for("the group's ticket", lambda: Alert.objects.first())
        with running.db_lock:
            message = InboundMessage.objects.get()
            assert message.status == InboundStatus.PROCESSED
            assert message.result["truncated"] == 2
            members = list(alert.members.all())
            assert len(members) == 3
            assert {m.fingerprint for m in members} <= {f.fingerprint for f in rack}
            events = [e.data for e in TimelineEvent.objects.filter(ticket=alert.ticket,
                                                                   kind="alert")]
            assert [e["status"] for e in events] == ["firing", "truncated"]
            assert events[1]["truncated"] == 2
            assert Ticket.objects.count() == 1
