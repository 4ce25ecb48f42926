"""The Zabbix media type shipped in integrations/zabbix: an export Zabbix 6.0/7.0 imports, a
script in the ES5 that Zabbix's Duktape engine runs, and problem, update and recovery events
reaching a live opsdesk when the script runs in Zabbix's own engine (zabbix_js, from Debian's
zabbix-server-pgsql 6.0: Duktape with Zabbix's HttpRequest) and under node (with a shim)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsdesk.intake import integrations
from opsdesk.intake.models import Alert, InboundMessage, IntegrationKind
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket, TimelineEvent

ROOT = Path(__file__).resolve().parents[2]
MEDIA_TYPE = ROOT / "integrations" / "zabbix" / "opsdesk_mediatype.yaml"
RUNNER = Path(__file__).with_name("zabbix_runner.js")
# Keys Zabbix 6.0 exports for a webhook media type (7.0 adds none that we use).
MEDIA_TYPE_KEYS = {"name", "type", "parameters", "script", "timeout", "process_tags",
                   "show_event_menu", "event_menu_url", "event_menu_name", "description",
                   "status", "max_sessions", "attempts", "attempt_interval",
                   "message_templates"}
MACRO = re.compile(r"\{[$#]?[A-Z0-9_.]+(:[^}]*)?\}")


def media_type() -> dict[str, Any]:
    export = yaml.safe_load(MEDIA_TYPE.read_text(encoding="utf-8"))
    assert export["zabbix_export"]["version"] in ("6.0", "7.0")
    (only,) = export["zabbix_export"]["media_types"]
    result: dict[str, Any] = only
    return result


def tool(name: str, package: str) -> str:
    """A command the test needs, or a skip naming its package (a failure on CI)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
    if path:
        return path
    reason = f"{name} is not installed (Debian package {package}; run scripts/ensure_test_tools.sh)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def test_the_export_has_what_zabbix_imports() -> None:
    mediatype = media_type()
    assert set(mediatype) <= MEDIA_TYPE_KEYS
    assert mediatype["name"] == "opsdesk" and mediatype["type"] == "WEBHOOK"
    assert mediatype["process_tags"] == "YES" and mediatype["script"].strip()
    names = [p["name"] for p in mediatype["parameters"]]
    assert len(names) == len(set(names))
    assert all(set(p) == {"name", "value"} for p in mediatype["parameters"])
    values = {p["name"]: p["value"] for p in mediatype["parameters"]}
    assert values["event_id"] == "{EVENT.ID}" and values["event_value"] == "{EVENT.VALUE}"
    assert values["event_update_status"] == "{EVENT.UPDATE.STATUS}"
    assert values["event_source"] == "{EVENT.SOURCE}"
    for name in names:  # every parameter the script reads is declared, and the reverse
        assert f"params.{name}" in mediatype["script"], name
    templates = {(t["event_source"], t["operation_mode"]): t
                 for t in mediatype["message_templates"]}
    assert set(templates) == {("TRIGGERS", m) for m in ("PROBLEM", "RECOVERY", "UPDATE")}
    assert all(t["subject"] and t["message"] for t in templates.values())


# Zabbix 7.0's timestamps; under 6.0 they stay unexpanded and the date and time stand in.
NEWER_MACROS = {"{EVENT.TIMESTAMP}", "{EVENT.RECOVERY.TIMESTAMP}", "{EVENT.UPDATE.TIMESTAMP}"}


def test_every_macro_is_one_zabbix_6_expands() -> None:
    """Macro names checked against the Zabbix 6.0 server itself (a typo would reach opsdesk
    as the macro's own text, which the script sends as empty)."""
    server = Path(tool("zabbix_server", "zabbix-server-pgsql")).read_bytes()
    used = {m.group(0) for p in media_type()["parameters"] for m in MACRO.finditer(p["value"])}
    assert {"{EVENT.ID}", "{EVENT.DATE}", "{EVENT.TAGSJSON}"} <= used
    unknown = sorted(m for m in used - NEWER_MACROS if m.encode() not in server)
    assert unknown == []


def test_the_script_is_es5_for_duktape(tmp_path: Path) -> None:
    acorn = tool("acorn", "node-acorn")
    wrapped = tmp_path / "mediatype.js"
    # Zabbix runs the script as the body of a function of `value`.
    wrapped.write_text("function opsdesk(value) {\n" + media_type()["script"] + "\n}\n",
                       encoding="utf-8")
    parsed = subprocess.run([acorn, "--ecma5", "--silent", str(wrapped)],
                            capture_output=True, text=True, check=False)
    assert parsed.returncode == 0, parsed.stderr + parsed.stdout


class ZabbixServer:
    """Expands the media type's parameters for an event, as Zabbix does (a macro it cannot
    resolve stays as it is), and runs the script in ``engine``."""

    def __init__(self, tmp_path: Path, url: str, token: str, engine: str) -> None:
        self.engine = engine
        self.command = (tool("zabbix_js", "zabbix-server-pgsql") if engine == "zabbix_js"
                        else tool("node", "nodejs"))
        mediatype = media_type()
        self.script = tmp_path / "script.js"
        self.script.write_text(mediatype["script"], encoding="utf-8")
        self.parameters = {p["name"]: p["value"] for p in mediatype["parameters"]}
        self.parameters.update(opsdesk_url=url + "/", opsdesk_token=token)

    def notify(self, macros: dict[str, str]) -> dict[str, Any]:
        value = json.dumps({name: MACRO.sub(lambda m: macros.get(m.group(0), m.group(0)), raw)
                            for name, raw in self.parameters.items()}, ensure_ascii=False)
        if self.engine == "node":
            run = subprocess.run([self.command, str(RUNNER), str(self.script)], input=value,
                                 capture_output=True, text=True, timeout=60, check=True)
            outcome: dict[str, Any] = json.loads(run.stdout)
            return outcome
        return self._zabbix_js(value)

    def _zabbix_js(self, value: str) -> dict[str, Any]:
        """zabbix_js prints its log lines ("zabbix_js [pid]: Warning: ..."), then a blank line
        and the script's result; or, when the script throws, the error."""
        run = subprocess.run([self.command, "-s", str(self.script), "-i", "-", "-t", "30"],
                             input=value, capture_output=True, text=True, timeout=60,
                             check=False)
        lines = run.stdout.splitlines()
        logs = [{"message": line.split(": ", 1)[-1]} for line in lines
                if line.startswith("zabbix_js [") and "error executing script" not in line]
        if run.returncode != 0:
            return {"error": run.stdout.split("cannot execute script: ", 1)[-1].strip(),
                    "logs": logs}
        return {"result": run.stdout.rsplit("\n\n", 1)[-1].strip(), "logs": logs}


PROBLEM = {
    "{EVENT.SOURCE}": "0", "{EVENT.VALUE}": "1", "{EVENT.UPDATE.STATUS}": "0",
    "{EVENT.ID}": "7301", "{EVENT.NAME}": "Nginx: 5xx 错误率超过 5%",
    "{EVENT.SEVERITY}": "Disaster", "{EVENT.NSEVERITY}": "5",
    "{EVENT.OPDATA}": "5xx rate: 12.4%", "{EVENT.DATE}": "2026.11.25", "{EVENT.TIME}": "16:00:12",
    "{EVENT.TAGSJSON}": '[{"tag":"service","value":"web"}]',
    "{HOST.NAME}": "web-01", "{HOST.IP}": "10.0.1.7", "{TRIGGER.ID}": "19020",
    "{TRIGGER.NAME}": "Nginx: High 5xx rate", "{TRIGGER.DESCRIPTION}": "用户下单失败",
    "{ALERT.SUBJECT}": "Problem: Nginx: 5xx 错误率超过 5%", "{ALERT.MESSAGE}": "Problem started",
}
UPDATE = {**PROBLEM, "{EVENT.UPDATE.STATUS}": "1", "{EVENT.UPDATE.ACTION}": "commented",
          "{EVENT.UPDATE.MESSAGE}": "已回滚到 v2.3.1", "{USER.FULLNAME}": "Han Meimei (韩梅梅)",
          "{EVENT.UPDATE.DATE}": "2026.11.25", "{EVENT.UPDATE.TIME}": "16:20:00"}
RECOVERY = {**PROBLEM, "{EVENT.VALUE}": "0", "{EVENT.RECOVERY.DATE}": "2026.11.25",
            "{EVENT.RECOVERY.TIME}": "16:40:00"}


# The live server commits for real; serialized_rollback puts back the data migrations' rows
# that the flush after each such test removes, for the tests after it.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(params=["zabbix_js", "node"])
def zabbix_server(request: pytest.FixtureRequest, live_server: Any,
                  tmp_path: Path) -> ZabbixServer:
    _integration, secret = integrations.create_integration(
        name="zabbix-dc1", kind=IntegrationKind.ZABBIX)
    return ZabbixServer(tmp_path, live_server.url, secret, request.param)


@live
def test_problem_update_and_recovery_reach_opsdesk(zabbix_server: ZabbixServer) -> None:
    opened = zabbix_server.notify(PROBLEM)
    assert "error" not in opened, opened
    ticket = Ticket.objects.get()
    assert json.loads(opened["result"]) == {"tags": {"opsdesk_ticket": ticket.key}}
    assert ticket.priority == Priority.URGENT and ticket.alert_host == "10.0.1.7"
    # Zabbix 6.0 has no timestamp macros: its local time, in the site's zone (Asia/Shanghai).
    assert ticket.alert_at == datetime(2026, 11, 25, 8, 0, 12, tzinfo=UTC)
    assert ticket.title == "[Disaster] Nginx: 5xx 错误率超过 5% @ web-01"
    assert Alert.objects.get().identity == "7301"
    # Macros Zabbix leaves unexpanded in a problem notification were sent as empty.
    sent = json.loads(bytes(InboundMessage.objects.get().body))
    assert sent["update_message"] == "" and sent["started_at"] == sent["recovered_at"] == ""
    assert sent["started_local"] == "2026.11.25 16:00:12"

    assert "error" not in zabbix_server.notify(PROBLEM)  # an escalation step repeats it
    assert "error" not in zabbix_server.notify(UPDATE)
    assert "error" not in zabbix_server.notify(RECOVERY)

    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1 and ticket.status == Status.CLOSED
    assert Alert.objects.get().resolved_at == datetime(2026, 11, 25, 8, 40, tzinfo=UTC)
    events = [e.data for e in TimelineEvent.objects.filter(ticket=ticket, kind="alert")]
    assert [e["status"] for e in events] == ["firing", "firing", "updated", "resolved"]
    assert events[2]["message"] == "已回滚到 v2.3.1"


@live
def test_opsdesk_refusals_reach_the_zabbix_action_log(zabbix_server: ZabbixServer) -> None:
    zabbix_server.parameters["opsdesk_token"] = "whk_not-the-secret"
    refused = zabbix_server.notify(PROBLEM)
    assert "HTTP 401" in refused["error"] and "密钥" in refused["error"]  # zh: the default
    assert any("sending failed" in line["message"] for line in refused["logs"])
    assert "whk_not-the-secret" not in json.dumps(refused)

    zabbix_server.parameters["opsdesk_url"] = "<PUT YOUR OPSDESK URL>"
    assert "opsdesk_url" in zabbix_server.notify(PROBLEM)["error"]
    assert Ticket.objects.count() == 0


@live
def test_other_event_sources_are_refused_by_the_script(zabbix_server: ZabbixServer) -> None:
    outcome = zabbix_server.notify({**PROBLEM, "{EVENT.SOURCE}": "1"})
    assert "trigger events only" in outcome["error"]
    assert InboundMessage.objects.count() == 0


@live
def test_an_acknowledged_problem_recovers_without_closing_its_ticket(
    zabbix_server: ZabbixServer
) -> None:
    """The recovery's {EVENT.ACK.STATUS} reaches opsdesk: an action without an update
    operation still keeps the ticket of a problem someone acknowledged in Zabbix."""
    assert "error" not in zabbix_server.notify({**PROBLEM, "{EVENT.ACK.STATUS}": "No"})
    assert "error" not in zabbix_server.notify({**RECOVERY, "{EVENT.ACK.STATUS}": "Yes"})

    ticket = Ticket.objects.get()
    assert ticket.status == Status.NEW
    newest = InboundMessage.objects.order_by("pk").last()
    assert newest is not None and json.loads(bytes(newest.body))["acknowledged"] == "Yes"
    assert Alert.objects.get().acknowledged_at is not None
