"""A real Zabbix 6.0 server (Debian's zabbix-server-pgsql) runs opsdesk's media type: a trigger
fires, is acknowledged with a comment, and recovers; its action's problem, update and recovery
operations reach the test server through the shipped script, and the ticket follows: the
acknowledgement keeps the recovery from closing the ticket, so it stays open.

Zabbix gets its own PostgreSQL database (the schema it ships, its base rows, and what the
frontend's import and forms would write: the media type from the YAML, a host with a trapper
item and a trigger, an action, the Admin user's media); values are pushed with the sender
protocol, and the acknowledgement is queued the way the frontend queues it (a task).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from opsdesk.intake import integrations
from opsdesk.intake.models import Alert, IntegrationKind
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.intake.test_real_alertmanager import db_lock
from tests.intake.test_zabbix_mediatype import media_type, tool

__all__ = ["db_lock"]  # the fixture, shared with the Alertmanager test

SQL = Path("/usr/share/zabbix-server-pgsql")
# Base rows Zabbix needs (its data.sql also holds ~130,000 rows of templates we do not).
BASE_TABLES = ("role", "role_rule", "users", "usrgrp", "users_groups", "hstgrp", "config",
               "config_autoreg_tls", "globalmacro", "regexps", "expressions")
ZABBIX_PG = os.environ.get("OPSDESK_ZABBIX_PG", "postgres://postgres@127.0.0.1:5432")
HOST, KEY = "web-01", "opsdesk.5xx"
T = TypeVar("T")


def base_rows() -> str:
    prefixes = tuple(f"INSERT INTO {table} " for table in BASE_TABLES)
    with gzip.open(SQL / "data.sql.gz", "rt", encoding="utf-8") as data:
        return "".join(line for line in data if line.startswith(prefixes))


def configuration(url: str, token: str) -> list[tuple[str, tuple[Any, ...]]]:
    """What importing the media type and filling the frontend's forms would write."""
    mediatype = media_type()
    modes = {"PROBLEM": 0, "RECOVERY": 1, "UPDATE": 2}
    parameters = {p["name"]: p["value"] for p in mediatype["parameters"]}
    parameters.update(opsdesk_url=url, opsdesk_token=token)
    rows: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO media_type (mediatypeid, type, name, script, process_tags, timeout) "
         "VALUES (100, 4, %s, %s, %s, '30s')",
         (mediatype["name"], mediatype["script"], int(mediatype["process_tags"] == "YES"))),
        *(("INSERT INTO media_type_param (mediatype_paramid, mediatypeid, name, value) "
           "VALUES (%s, 100, %s, %s)", (100 + i, name, value))
          for i, (name, value) in enumerate(parameters.items())),
        *(("INSERT INTO media_type_message (mediatype_messageid, mediatypeid, eventsource, "
           "recovery, subject, message) VALUES (%s, 100, 0, %s, %s, %s)",
           (100 + i, modes[t["operation_mode"]], t["subject"], t["message"]))
          for i, t in enumerate(mediatype["message_templates"])),
        ("UPDATE users SET timezone = 'Asia/Shanghai' WHERE userid = 1", ()),
        # The engineer who acknowledges in Zabbix (Zabbix does not notify an update's author).
        ("INSERT INTO users (userid, username, name, surname, passwd, roleid) "
         "VALUES (100, 'lilei', 'Li', 'Lei', '', 3)", ()),
        ("INSERT INTO media (mediaid, userid, mediatypeid, sendto) VALUES (100, 1, 100, 'x')",
         ()),
        ("INSERT INTO hosts (hostid, host, name) VALUES (100, %s, %s)", (HOST, HOST)),
        ("INSERT INTO hosts_groups (hostgroupid, hostid, groupid) "
         "SELECT 100, 100, MIN(groupid) FROM hstgrp", ()),
        ("INSERT INTO items (itemid, hostid, type, name, key_, value_type, history, trends) "
         "VALUES (100, 100, 2, 'Nginx 5xx rate', %s, 3, '1d', '0')", (KEY,)),
        ("INSERT INTO item_rtdata (itemid) VALUES (100)", ()),
        ("INSERT INTO triggers (triggerid, expression, description, priority, manual_close) "
         "VALUES (100, '{100}>0', 'Nginx: 5xx 错误率过高', 5, 1)", ()),
        ("INSERT INTO functions (functionid, itemid, triggerid, name, parameter) "
         "VALUES (100, 100, 100, 'last', '$')", ()),
        ("INSERT INTO trigger_tag (triggertagid, triggerid, tag, value) "
         "VALUES (100, 100, 'service', 'web')", ()),
        ("INSERT INTO actions (actionid, name, eventsource, esc_period) "
         "VALUES (100, 'opsdesk', 0, '1h')", ()),
    ]
    for operation, mode in ((100, 0), (101, 1), (102, 2)):  # problem, recovery, update
        rows += [
            ("INSERT INTO operations (operationid, actionid, operationtype, recovery) "
             "VALUES (%s, 100, 0, %s)", (operation, mode)),
            ("INSERT INTO opmessage (operationid, default_msg, mediatypeid) "
             "VALUES (%s, 1, 100)", (operation,)),
            ("INSERT INTO opmessage_usr (opmessage_usrid, operationid, userid) "
             "VALUES (%s, %s, 1)", (operation, operation)),
        ]
    return rows


@dataclass
class RunningZabbix:
    database: str
    port: int
    log_path: Path
    db_lock: AbstractContextManager[Any]

    def send(self, value: int) -> None:
        """A value for the trapper item, by Zabbix's sender protocol."""
        data = json.dumps({"request": "sender data",
                           "data": [{"host": HOST, "key": KEY, "value": str(value)}]}).encode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(b"ZBXD\x01" + struct.pack("<Q", len(data)) + data)
            answer = connection.recv(4096)
        assert b'"success"' in answer and b"processed: 1" in answer, answer

    def acknowledge(self, message: str) -> None:
        """Acknowledge the open problem with a message, as the frontend does in 6.0."""
        with psycopg.connect(f"{ZABBIX_PG}/{self.database}", autocommit=True) as db:
            row = db.execute("SELECT eventid FROM problem WHERE r_eventid IS NULL").fetchone()
            assert row is not None
            now = int(time.time())
            db.execute("INSERT INTO acknowledges (acknowledgeid, userid, eventid, clock, "
                       "message, action) VALUES (100, 100, %s, %s, %s, 6)", (row[0], now, message))
            db.execute("INSERT INTO task (taskid, type, status, clock) VALUES (100, 4, 1, %s)",
                       (now,))
            db.execute("INSERT INTO task_acknowledge (taskid, acknowledgeid) VALUES (100, 100)")

    def log(self) -> str:
        """The server's log, and what it did: its tasks, escalations and alerts."""
        paths = (self.log_path, self.log_path.with_suffix(".out"))
        text = "\n".join(p.read_text(errors="replace")[-3000:] for p in paths if p.exists())
        with psycopg.connect(f"{ZABBIX_PG}/{self.database}") as db:
            for query in ("SELECT taskid, type, status FROM task",
                          "SELECT escalationid, eventid, status, acknowledgeid FROM escalations",
                          "SELECT alertid, eventid, status, error, acknowledgeid FROM alerts"):
                text += f"\n{query}: {db.execute(query).fetchall()}"
        return text

    def wait_for(self, what: str, check: Callable[[], T | None], timeout: float = 60) -> T:
        deadline = time.monotonic() + timeout
        while True:
            with self.db_lock:
                found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"Zabbix did not deliver {what} in {timeout} s:\n{self.log()}")
            time.sleep(0.5)


def zabbix_port() -> int:
    """A free port in the range Zabbix accepts for ListenPort (1024-32767)."""
    for port in random.sample(range(20000, 32767), 50):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the Zabbix server")


def postgres_for_zabbix() -> None:
    try:
        psycopg.connect(f"{ZABBIX_PG}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as error:
        reason = f"no PostgreSQL for the Zabbix server at {ZABBIX_PG}: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def zabbix(live_server: Any, db_lock: AbstractContextManager[Any],
           tmp_path: Path) -> Iterator[RunningZabbix]:
    binary = tool("zabbix_server", "zabbix-server-pgsql")
    postgres_for_zabbix()
    database = f"zabbix_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{ZABBIX_PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        _integration, secret = integrations.create_integration(
            name="zabbix-dc1", kind=IntegrationKind.ZABBIX)
        with psycopg.connect(f"{ZABBIX_PG}/{database}") as db:
            with gzip.open(SQL / "schema.sql.gz", "rt", encoding="utf-8") as schema:
                db.execute(schema.read())
            db.execute(base_rows())
            for statement, values in configuration(live_server.url, secret):
                db.execute(statement, values)
        port = zabbix_port()
        log_path = tmp_path / "zabbix_server.log"
        conf = tmp_path / "zabbix_server.conf"
        conf.write_text("\n".join([
            f"LogFile={log_path}", "LogFileSize=0", "DebugLevel=3",
            f"PidFile={tmp_path}/zabbix_server.pid", f"SocketDir={tmp_path}",
            f"TmpDir={tmp_path}", "DBHost=127.0.0.1", f"DBName={database}", "DBUser=postgres",
            "ListenIP=127.0.0.1", f"ListenPort={port}", "AllowRoot=1",
            "CacheUpdateFrequency=1", "StartPollers=1", "StartPollersUnreachable=1",
            "StartPingers=0", "StartDiscoverers=0", "StartHTTPPollers=0",
            "StartTrappers=1", "StartAlerters=1", "StartEscalators=1",
            "StartPreprocessors=1", "StartLLDProcessors=1", "StartReportWriters=0",
            "HousekeepingFrequency=0", "Timeout=30",
        ]) + "\n")
        with log_path.with_suffix(".out").open("wb") as out:
            server = subprocess.Popen([binary, "-f", "-c", str(conf)], stdout=out,
                                      stderr=subprocess.STDOUT)
        running = RunningZabbix(database, port, log_path, db_lock)
        try:
            running.wait_for("its trapper", lambda: _listening(port), timeout=30)
            yield running
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        with psycopg.connect(f"{ZABBIX_PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _alert_statuses(ticket: Ticket) -> list[str]:
    return [e.data["status"] for e in TimelineEvent.objects.filter(ticket=ticket, kind="alert")]


# The live server commits for real; serialized_rollback puts back the data migrations' rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_zabbix_problem_is_acknowledged_and_recovers(zabbix: RunningZabbix) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    zabbix.send(1)

    ticket = zabbix.wait_for("the problem", lambda: Ticket.objects.first())
    assert ticket.priority == Priority.URGENT and ticket.alert_level == "Disaster"
    assert ticket.title == f"[Disaster] Nginx: 5xx 错误率过高 @ {HOST}"
    assert ticket.alert_at is not None and ticket.alert_at >= before  # 6.0 local time, read
    assert (ticket.alert_at - before).total_seconds() < 60             # in Asia/Shanghai
    alert = Alert.objects.get()
    assert alert.labels["tag:service"] == "web" and alert.labels["severity"] == "Disaster"

    zabbix.acknowledge("已回滚到 v2.3.1")
    zabbix.wait_for("the update", lambda: "updated" in _alert_statuses(ticket))
    zabbix.send(0)
    zabbix.wait_for("the recovery", lambda: "resolved" in _alert_statuses(ticket))

    with zabbix.db_lock:
        ticket.refresh_from_db()
        updated = TimelineEvent.objects.filter(ticket=ticket, kind="alert",
                                               data__status="updated").get()
        resolved = TimelineEvent.objects.filter(ticket=ticket, kind="alert",
                                                data__status="resolved").get()
        alert = Alert.objects.get()
        # Acknowledged in Zabbix: someone responded, so the recovery is recorded and the
        # ticket stays for the engineer to verify and close.
        assert Ticket.objects.count() == 1 and ticket.status == Status.NEW
    assert updated.data["message"] == "已回滚到 v2.3.1"
    assert updated.data["user"].startswith("Li Lei")
    assert updated.data["action"] == "acknowledged and commented"
    assert updated.data["acknowledged"] is True and resolved.data["acknowledged"] is True
    assert alert.acknowledged_by.startswith("Li Lei") and not alert.firing
