"""One sequential HTTP/1.1 client on one keep-alive connection (``http.client``), timing each
request from the first byte sent to the last byte of the answer read."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Timings:
    """Latencies in seconds and the wall time they took end to end."""

    latencies: list[float]
    wall: float

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    @property
    def mean_ms(self) -> float:
        return sum(self.latencies) / len(self.latencies) * 1000 if self.latencies else 0.0


class Client:
    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.headers = {"Accept": "application/json", "Accept-Language": "zh-hans"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connects = 0

    def _ensure_connected(self) -> None:
        if self.conn.sock is None:
            self.conn.connect()
            sock: socket.socket = self.conn.sock  # type: ignore[assignment]
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connects += 1

    def call(self, method: str, path: str, body: Any = None,
             params: Mapping[str, str | Sequence[str]] | None = None) -> tuple[int, bytes, float]:
        """One request; (status, body, seconds)."""
        if params:
            path = f"{path}?{urlencode(params, doseq=True)}"
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        self._ensure_connected()
        start = time.perf_counter()
        # Headers and a bytes body leave in one send(): no Nagle / delayed-ACK stall.
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - start
        if response.will_close:
            self.conn.close()
        return response.status, payload, elapsed

    def json(self, method: str, path: str, body: Any = None, expect: int = 200,
             params: Mapping[str, str | Sequence[str]] | None = None) -> tuple[Any, float]:
        status, payload, elapsed = self.call(method, path, body, params)
        if status != expect:
            raise BenchError(f"{method} {path} {params or ''}: {status} {payload[:500]!r}")
        return json.loads(payload), elapsed

    def close(self) -> None:
        self.conn.close()
