"""Alertmanager webhook payloads (version 4) as Alertmanager 0.25 sends them, with the
fingerprints it computes (FNV-1a 64 over the sorted labels), for tests to post."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (prometheus/common model.LabelSet.Fingerprint)."""
    digest = 0xCBF29CE484222325
    for name in sorted(labels):
        for byte in name.encode() + b"\xff" + labels[name].encode() + b"\xff":
            digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def rfc3339(moment: datetime) -> str:
    """Alertmanager's time format: UTC with nanoseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


@dataclass(frozen=True)
class Fault:
    """One alert as Prometheus raises it: its labels say what and where."""

    alertname: str = "NodeHighCPU"
    instance: str = "10.0.3.21:9100"
    job: str = "node"
    severity: str = "critical"
    summary: str = "CPU 使用率超过 95%"
    description: str = "10.0.3.21 上的 CPU 使用率已持续 5 分钟超过 95%，请检查负载。"
    starts_at: datetime = datetime(2026, 11, 25, 8, 0, 12, 345678, tzinfo=UTC)
    extra_labels: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {"alertname": self.alertname, "instance": self.instance, "job": self.job,
                "severity": self.severity, **self.extra_labels}

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)

    def alert(self, *, resolved: bool = False, ends_at: datetime | None = None) -> dict[str, Any]:
        ends = ZERO_TIME
        if resolved:
            ends = rfc3339(ends_at or datetime(2026, 11, 25, 8, 30, tzinfo=UTC))
        return {
            "status": "resolved" if resolved else "firing",
            "labels": self.labels,
            "annotations": {"summary": self.summary, "description": self.description},
            "startsAt": rfc3339(self.starts_at),
            "endsAt": ends,
            "generatorURL": "http://prometheus.ops.example:9090/graph?g0.expr=node_cpu&g0.tab=1",
            "fingerprint": self.fingerprint,
        }


CPU = Fault()
DISK = Fault(
    alertname="DiskWillFillIn4Hours", instance="db-01.prod.example:9100", severity="warning",
    summary="Disk /data will fill within 4 hours",
    description="Filesystem /data on db-01 has 6% space left and is growing at 2 GB/h.",
)
LATENCY = Fault(
    alertname="PaymentApiLatencyHigh", instance="[fd00:10::21]:8080", job="payment-api",
    severity="info", summary="支付接口 P99 延迟超过 2 秒",
    description="payment-api 的 P99 延迟 2.4 s（阈值 2 s），持续 10 分钟。",
    extra_labels={"service": "payment"},
)


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    return {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])}


def notification(*alerts: dict[str, Any], group_by: tuple[str, ...] = ("...",),
                 receiver: str = "opsdesk") -> dict[str, Any]:
    """One webhook notification carrying ``alerts``, with the group fields Alertmanager adds."""
    labels = [a["labels"] for a in alerts]
    common = _common(labels)
    group_labels = dict(common) if group_by == ("...",) else {
        k: v for k, v in common.items() if k in group_by
    }
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "receiver": receiver,
        "status": "firing" if firing else "resolved",
        "alerts": list(alerts),
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": _common([a["annotations"] for a in alerts]),
        "externalURL": "http://alertmanager.ops.example:9093",
        "version": "4",
        "groupKey": "{}:{" + matchers + "}",
        "truncatedAlerts": 0,
    }
