"""Where the CPU went while a figure was measured.

Two figures come out of ``/proc``:

- the server's CPU time per request (its process group, plus on PostgreSQL the backends serving
  the benchmark's database): what a request costs, nearly independent of what else runs on the
  machine, so comparable between runs where latencies are not;
- the share of the whole machine that *other* processes used meanwhile (all busy CPU time
  minus the benchmark's own processes): a benchmark on a shared machine (a CI runner, a laptop
  running the tests) measures the others too, and this says how much.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TICK_SECONDS = 1 / os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    other: float | None = None  # share of all CPUs (0 to 1) used by other processes
    server_seconds: float | None = None  # CPU time of the server (and its database backends)


def _machine() -> tuple[int, int] | None:
    """(all ticks, busy ticks) over all CPUs since boot."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + values[4]
    return sum(values), sum(values) - idle


def _ticks(pgid: int | None, pids: frozenset[int]) -> tuple[int, int]:
    """(ticks of this process, ticks of the server's process group and ``pids``) so far."""
    me, own, server = os.getpid(), 0, 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        pid, pgrp, used = int(entry.name), int(rest[2]), int(rest[11]) + int(rest[12])
        if pid == me:  # with the children it has waited for (a mailgate run, say)
            own += used + int(rest[13]) + int(rest[14])
        elif pid in pids or (pgid is not None and pgrp == pgid):
            server += used
    return own, server


class CpuMonitor:
    def __init__(self, helpers: Callable[[], set[int]] | None = None) -> None:
        self.pgid: int | None = None  # the server's process group, once it runs
        # Processes working for the server elsewhere: PostgreSQL's backends.
        self.helpers = helpers or set

    @contextmanager
    def measure(self) -> Iterator[Usage]:
        usage = Usage()
        pids = frozenset(self.helpers())
        machine_before, (own_before, server_before) = _machine(), _ticks(self.pgid, pids)
        yield usage
        pids = pids | self.helpers()
        machine_after, (own_after, server_after) = _machine(), _ticks(self.pgid, pids)
        usage.server_seconds = (server_after - server_before) * TICK_SECONDS
        if machine_before is None or machine_after is None:
            return
        elapsed = machine_after[0] - machine_before[0]
        ours = (own_after - own_before) + (server_after - server_before)
        if elapsed > 0:
            other = (machine_after[1] - machine_before[1]) - ours
            usage.other = max(0.0, min(1.0, other / elapsed))
