"""What is measured: the no-op ceiling, ticket creation, and the list endpoint's query shapes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

from bench.client import BenchError, Client, Timings

Params = Mapping[str, str | Sequence[str]]
TICKETS = "/api/v1/tickets"


@dataclass
class Rate:
    name: str
    timings: Timings
    unit: str
    target: float | None = None  # the minimum rate, when there is one
    other_cpu: float | None = None  # the share of the machine other processes used meanwhile
    server_cpu_ms: float | None = None  # the server's CPU time per request
    warmup: int = 0  # requests made before the timed ones (inside the CPU window)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.timings.rate >= self.target


@dataclass
class Latency:
    name: str
    tickets: int
    timings: Timings
    rows: float  # the mean number of tickets on a page: a filter that matches none is cheap
    note: str = ""
    target_p95_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    other_cpu: float | None = None
    server_cpu_ms: float | None = None
    warmup: int = 0

    @property
    def met(self) -> bool | None:
        if self.target_p95_ms is None:
            return None
        return self.timings.percentile(95) <= self.target_p95_ms


def measure_ping(client: Client, count: int, warmup: int) -> Rate:
    for _ in range(warmup):
        client.json("GET", "/api/v1/ping")
    return Rate("no-op GET /api/v1/ping (the ceiling)", _repeat(
        count, lambda: client.json("GET", "/api/v1/ping")[1]), "requests/s", warmup=warmup)


def measure_create(client: Client, payloads: Callable[[], dict[str, Any]], count: int,
                   warmup: int, target: float) -> Rate:
    def one() -> float:
        _body, elapsed = client.json("POST", TICKETS, payloads(), expect=201)
        return elapsed

    for _ in range(warmup):
        one()
    return Rate("POST /api/v1/tickets (create a ticket)", _repeat(count, one), "tickets/s",
                target=target, warmup=warmup)


def _repeat(count: int, one: Callable[[], float]) -> Timings:
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        latencies.append(one())
    return Timings(latencies, time.perf_counter() - start)


def measure_list(client: Client, name: str, tickets: int, variants: Sequence[Params],
                 count: int, warmup: int, note: str = "",
                 target_p95_ms: float | None = None) -> Latency:
    """``count`` requests cycling through ``variants`` of the query string, after a warm-up."""
    rows = 0
    params = cycle(variants)
    for _ in range(warmup):
        client.json("GET", TICKETS, params=next(params))
    params = cycle(variants)
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        page, elapsed = client.json("GET", TICKETS, params=next(params))
        latencies.append(elapsed)
        rows += len(page["items"])
    wall = time.perf_counter() - start
    return Latency(name, tickets, Timings(latencies, wall), rows / count, note, target_p95_ms,
                   warmup=warmup)


def deep_cursor(client: Client, tickets: int, params: Params,
                depth: float = 0.5) -> tuple[str, int]:
    """Follow ``next_cursor`` in pages of 200 to ``depth`` of the list: (cursor, rows skipped)."""
    cursor: str | None = None
    skipped = 0
    while skipped < int(tickets * depth):
        query = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page, _elapsed = client.json("GET", TICKETS, params=query)
        skipped += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            raise BenchError(f"{params}: the list ended after {skipped} rows")
    assert cursor is not None
    return cursor, skipped


def measure_pages(client: Client, name: str, tickets: int, params: Params, cursor: str,
                  count: int, note: str = "") -> Latency:
    """``count`` consecutive pages of 50 from ``cursor``, wrapping to the start at the end."""
    latencies: list[float] = []
    rows, wrapped = 0, 0
    next_cursor: str | None = cursor
    start = time.perf_counter()
    for _ in range(count):
        query = {**params, "limit": "50", **({"cursor": next_cursor} if next_cursor else {})}
        page, elapsed = client.json("GET", TICKETS, params=query)
        latencies.append(elapsed)
        rows += len(page["items"])
        next_cursor = page["next_cursor"]
        wrapped += next_cursor is None
    wall = time.perf_counter() - start
    return Latency(name, tickets, Timings(latencies, wall), rows / count, note,
                   extra={"wrapped": wrapped})
