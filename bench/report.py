"""The figures as a console table and as the results block of ``bench/README.md``."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from bench.scenarios import Latency, Rate

README = Path(__file__).with_name("README.md")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {ram} RAM, {cpu}"


def software(database: str) -> str:
    return (f"Python {platform.python_version()}, Django {version('django')}, "
            f"django-ninja {version('django-ninja')}, Granian {version('granian')}, {database}")


@dataclass
class Results:
    backend: str
    date: str
    command: str
    machine: str
    software: str
    workers: int
    rates: list[Rate] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    loads: list[tuple[int, float]] = field(default_factory=list)  # (tickets, seconds)
    notes: list[str] = field(default_factory=list)

    @property
    def busiest(self) -> float:
        shares = [r.other_cpu for r in self.rates] + [x.other_cpu for x in self.latencies]
        return max((s for s in shares if s is not None), default=0.0)

    def disturbed(self) -> str | None:
        if self.busiest <= BUSY:
            return None
        return (f"Warning: other processes used up to {self.busiest * 100:.0f}% of the machine "
                "during some measurements (column \"others' CPU\"); those figures are worse "
                "than this machine can do. Run again on a quiet machine.")

    @property
    def missed(self) -> list[str]:
        out = [f"{r.name}: {r.timings.rate:,.0f} {r.unit} < {r.target:,.0f}"
               for r in self.rates if r.met is False]
        out += [f"{x.name} at {x.tickets:,}: p95 {x.timings.percentile(95):.1f} ms > "
                f"{x.target_p95_ms:.0f} ms" for x in self.latencies if x.met is False]
        return out


def _other(share: float | None) -> str:
    return "?" if share is None else f"{share * 100:.0f}%"


def _cpu(ms: float | None) -> str:
    return "?" if ms is None else f"{ms:.2f}"


def _verdict(met: bool | None, target: str) -> str:
    if met is None:
        return ""
    return f"{'✓' if met else '✗ MISSED'} {target}"


def rate_rows(results: Results) -> list[list[str]]:
    rows = []
    for r in results.rates:
        target = f"≥ {r.target:,.0f}/s" if r.target else ""
        rows.append([r.name, f"{r.timings.rate:,.0f} {r.unit}", f"{r.timings.count:,}",
                     f"{r.timings.percentile(50):.2f}", f"{r.timings.percentile(95):.2f}",
                     f"{r.timings.percentile(99):.2f}", _cpu(r.server_cpu_ms),
                     _other(r.other_cpu), _verdict(r.met, target)])
    for tickets, seconds in results.loads:
        rows.append([f"bulk load to {tickets:,} tickets (ORM, in-process)",
                     f"{tickets / seconds:,.0f} tickets/s" if seconds else "-", "", "", "", "",
                     "", "", ""])
    return rows


RATE_HEADER = ["measure", "rate", "requests", "p50 ms", "p95 ms", "p99 ms",
               "server CPU ms/req", "others' CPU", "target"]
LATENCY_HEADER = ["list request", "tickets", "rows/page", "p50 ms", "p95 ms", "p99 ms",
                  "server CPU ms/req", "others' CPU", "target"]
BUSY = 0.10  # other processes using more than this share of the machine disturb the figures


def latency_rows(results: Results) -> list[list[str]]:
    rows = []
    for x in results.latencies:
        target = f"p95 ≤ {x.target_p95_ms:.0f} ms" if x.target_p95_ms else ""
        name = f"{x.name} ({x.note})" if x.note else x.name
        rows.append([name, f"{x.tickets:,}", f"{x.rows:.0f}",
                     f"{x.timings.percentile(50):.1f}", f"{x.timings.percentile(95):.1f}",
                     f"{x.timings.percentile(99):.1f}", _cpu(x.server_cpu_ms),
                     _other(x.other_cpu), _verdict(x.met, target)])
    return rows


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - _width(cell))
            out.append(cell + pad if i == 0 or i == len(cells) - 1 else pad + cell)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---"] + ["--:"] * (len(header) - 2) + ["---"]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, align, *rows])


def console(results: Results) -> str:
    parts = [
        f"opsdesk benchmark — {results.backend}, {results.date}",
        f"machine:  {results.machine}",
        f"software: {results.software}; server: opsdesk serve (Granian WSGI), "
        f"{results.workers} workers",
        f"command:  {results.command}",
        "",
        text_table(RATE_HEADER, rate_rows(results)),
        "",
        text_table(LATENCY_HEADER, latency_rows(results)),
    ]
    parts += ["", *results.notes] if results.notes else []
    if warning := results.disturbed():
        parts += ["", warning]
    missed = results.missed
    parts += ["", "Targets missed:" if missed else "All targets met.", *(f"  {m}" for m in missed)]
    return "\n".join(parts)


def markdown(results: Results) -> str:
    missed = results.missed
    return "\n".join([
        f"Measured {results.date} with `{results.command}`.",
        "",
        f"- Machine: {results.machine}",
        f"- Software: {results.software}",
        f"- Server: `opsdesk serve` (Granian WSGI), {results.workers} workers; one sequential "
        "client on one keep-alive connection, on the same machine",
        "",
        markdown_table(RATE_HEADER, rate_rows(results)),
        "",
        markdown_table(LATENCY_HEADER, latency_rows(results)),
        "",
        *(f"{n}" for n in results.notes),
        *([""] if results.notes else []),
        *([f"**{w}**", ""] if (w := results.disturbed()) else []),
        ("**Targets missed:** " + "; ".join(missed)) if missed else "All targets met.",
    ])


def replace_block(marker: str, heading: str, body: str) -> None:
    """Replace the block between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in
    bench/README.md with ``body`` (the rest of the file is kept), or append it under
    ``heading`` the first time."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = README.read_text() if README.exists() else ""
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + f"\n\n{heading}\n\n{block}\n"
    README.write_text(text)


def write_readme(results: Results) -> None:
    """Replace this backend's results block in README.md (the rest of the file is kept)."""
    replace_block(f"results:{results.backend}", f"## Last results: {results.backend}",
                  markdown(results))
