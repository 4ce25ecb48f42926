"""Zabbix trigger events as opsdesk's media type script posts them, for tests to send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

STARTED = datetime(2026, 11, 25, 8, 0, 12, tzinfo=UTC)
RECOVERED = datetime(2026, 11, 25, 8, 42, 0, tzinfo=UTC)


def problem(event_id: str = "40213", *, severity: str = "High", nseverity: str = "4",
            **changes: Any) -> dict[str, Any]:
    return {
        "event": "problem", "event_id": event_id,
        "name": "MySQL: 主从复制延迟超过 300 秒", "severity": severity, "nseverity": nseverity,
        "opdata": "Replication lag: 412s", "started_at": str(int(STARTED.timestamp())),
        "recovered_at": "", "host": "db-02", "host_ip": "10.0.5.12", "trigger_id": "23311",
        "trigger_name": "MySQL: Replication lag is too high",
        "description": "从库 db-02 的复制延迟持续超过 5 分钟，报表数据可能过期。",
        "tags": [{"tag": "service", "value": "payment"}, {"tag": "scope", "value": "capacity"}],
        "update_action": "", "update_message": "", "update_at": "", "update_user": "",
        "subject": "Problem: MySQL: 主从复制延迟超过 300 秒", "message": "Problem started ...",
        **changes,
    }


def recovery(event_id: str = "40213", **changes: Any) -> dict[str, Any]:
    return problem(event_id, event="recovery", recovered_at=str(int(RECOVERED.timestamp())),
                   **changes)


def update(event_id: str = "40213", *, action: str = "acknowledged", message: str = "",
           **changes: Any) -> dict[str, Any]:
    return problem(event_id, event="update", update_action=action, update_message=message,
                   update_user="Li Lei (李雷)", **changes)
