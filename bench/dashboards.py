"""``python -m bench.dashboards [--postgres URL] [--count N]``: the dashboards at 100,000 tickets.

1. A fresh data folder and database (SQLite in WAL mode, or ``--postgres URL``: a database
   ``opsdesk_dashboards`` created and dropped on that server, apart from the other benchmarks'),
   migrated, with the harness's people and modules (``bench.data``).
2. ``--count`` (default 100,000) tickets over two years ending now, loaded in bulk with their
   'created' events and SLA clocks (``bench.data.bulk_load``: the main benchmark's
   distributions), then ``collectstatic`` as ``opsdesk run`` does (compressed static files).
3. ``opsdesk serve`` (Granian, 2 workers) and one keep-alive client as the department head:
   each report endpoint for each period (7, 30, 90 days), without and with a module filter;
   then the whole dashboard's data (its five requests one after another, as a browser that
   fetched them one at a time would wait). Target: the whole dashboard's data in under 1 s.
4. The dashboard page and its scripts and style sheets as a browser asks for them
   (``Accept-Encoding: gzip, br``): what is really sent. Target: under 300 KB compressed.

Prints a table and writes it to bench/README.md (``--no-write``: print only); exit status 1
when a target is missed. The server is stopped and everything removed at the end.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.client import Client, Timings
from bench.cpu import CpuMonitor
from bench.environment import Environment, command_line, session
from bench.server import Server
from bench.sla_scale import ScaleEnvironment

DASHBOARD_TARGET_MS = 1000.0  # all five figures of one dashboard view
PAGE_BUDGET_KB = 300.0  # the dashboard page's own scripts and style sheets, compressed
REPORTS = ["open-tickets", "backlog-age", "inflow", "times", "sla-compliance"]
RANGED = {"inflow", "times", "sla-compliance"}  # the figures a period applies to
BUSY = 0.10
README = Path(__file__).with_name("README.md")


class DashboardEnvironment(ScaleEnvironment):
    database_name = "opsdesk_dashboards"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Figure:
    name: str
    detail: str
    timings: Timings
    target: str = ""
    met: bool | None = None
    other_cpu: float | None = None
    server_ms: float | None = None


@dataclass
class Asset:
    path: str
    encoding: str
    sent: int  # bytes on the wire (the body as sent)
    size: int  # bytes once decoded


@dataclass
class Results:
    backend: str
    count: int
    command: str
    machine: str
    software: str
    load_seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)

    @property
    def assets_kb(self) -> float:
        return sum(a.sent for a in self.assets) / 1024

    @property
    def missed(self) -> list[str]:
        out = [f"{f.name} ({f.detail}): {f.target}" for f in self.figures if f.met is False]
        if self.assets_kb > PAGE_BUDGET_KB:
            out.append(f"page scripts and styles: {self.assets_kb:.0f} KB > {PAGE_BUDGET_KB} KB")
        return out

    def disturbed(self) -> str | None:
        busiest = max((f.other_cpu for f in self.figures if f.other_cpu is not None), default=0)
        if busiest <= BUSY:
            return None
        return (f"Warning: other processes used up to {busiest * 100:.0f}% of the machine during "
                "some measurements (column \"others' CPU\"); those figures are worse than this "
                "machine can do. Run again on a quiet machine.")


def measure_report(client: Client, name: str, params: dict[str, str], requests: int,
                   cpu: CpuMonitor, warmup: int = 5) -> Figure:
    path = f"/api/v1/reports/{name}"
    for _ in range(warmup):
        client.json("GET", path, params=params)
    latencies = []
    with cpu.measure() as usage:
        began = time.perf_counter()
        for _ in range(requests):
            latencies.append(client.json("GET", path, params=params)[1])
        wall = time.perf_counter() - began
    detail = ", ".join(f"{k}={v}" for k, v in params.items()) or "—"
    return Figure(name, detail, Timings(latencies, wall), other_cpu=usage.other,
                  server_ms=_per_request(usage.server_seconds, requests + warmup))


def measure_dashboard(client: Client, params: dict[str, str], rounds: int,
                      cpu: CpuMonitor) -> Figure:
    """All five figures one after another: the whole dashboard's data, end to end."""
    totals = []
    with cpu.measure() as usage:
        began = time.perf_counter()
        for _ in range(rounds):
            totals.append(sum(
                client.json("GET", f"/api/v1/reports/{name}",
                            params=params if name in RANGED else _module_only(params))[1]
                for name in REPORTS))
        wall = time.perf_counter() - began
    timings = Timings(totals, wall)
    detail = ", ".join(f"{k}={v}" for k, v in params.items())
    return Figure("whole dashboard (5 requests in a row)", detail, timings,
                  target=f"p95 < {DASHBOARD_TARGET_MS:.0f} ms",
                  met=timings.percentile(95) < DASHBOARD_TARGET_MS, other_cpu=usage.other,
                  server_ms=_per_request(usage.server_seconds, rounds))


def _module_only(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k == "module"}


def _per_request(seconds: float | None, requests: int) -> float | None:
    return None if seconds is None else seconds * 1000 / requests


def measure_assets(port: int, cookie: str) -> list[Asset]:
    """The dashboard page and every script and style sheet it links, as a browser gets them."""
    client = Client(port)
    client.headers.update({"Accept": "text/html,*/*", "Accept-Encoding": "gzip, br",
                           "Cookie": cookie})
    status, page, _elapsed = client.call("GET", "/dashboards/")
    if status != 200:
        raise RuntimeError(f"GET /dashboards/: {status} {page[:300]!r}")
    html = page.decode()
    paths = re.findall(r'<script[^>]* src="([^"]+)"', html)
    paths += re.findall(r'<link[^>]* rel="stylesheet"[^>]* href="([^"]+)"', html)
    paths += re.findall(r'<link[^>]* href="([^"]+)"[^>]* rel="stylesheet"', html)
    assets = []
    for path in dict.fromkeys(paths):
        client.conn.request("GET", path, headers=client.headers)
        response = client.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        encoding = response.getheader("Content-Encoding") or "identity"
        assets.append(Asset(path, encoding, len(body), _decoded_size(body, encoding)))
    client.close()
    return assets


def _decoded_size(body: bytes, encoding: str) -> int:
    if encoding == "gzip":
        import gzip

        return len(gzip.decompress(body))
    if encoding == "br":
        import brotli  # whitenoise only sends br when the brotli package is installed

        return len(brotli.decompress(body))
    return len(body)


def session_cookie(user: Any) -> str:
    """A signed-in browser session for ``user``, made the way Django's login makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


HEADER = ["figure", "parameters", "requests", "p50 ms", "p95 ms", "server CPU ms/req",
          "others' CPU", "target"]


def rows(results: Results) -> list[list[str]]:
    out = []
    for f in results.figures:
        verdict = "" if f.met is None else f"{'✓' if f.met else '✗ MISSED'} {f.target}"
        out.append([f.name, f.detail, f"{f.timings.count:,}",
                     f"{f.timings.percentile(50):.1f}", f"{f.timings.percentile(95):.1f}",
                     "?" if f.server_ms is None else f"{f.server_ms:.1f}",
                     "?" if f.other_cpu is None else f"{f.other_cpu * 100:.0f}%", verdict])
    return out


ASSET_HEADER = ["file", "sent as", "KB sent", "KB decoded"]


def asset_rows(results: Results) -> list[list[str]]:
    out = [[a.path, a.encoding, f"{a.sent / 1024:.1f}", f"{a.size / 1024:.1f}"]
           for a in results.assets]
    verdict = "✓" if results.assets_kb <= PAGE_BUDGET_KB else "✗ MISSED"
    out.append([f"total ({verdict} ≤ {PAGE_BUDGET_KB:.0f} KB)", "",
                f"{results.assets_kb:.1f}", f"{sum(a.size for a in results.assets) / 1024:.1f}"])
    return out


def summary(results: Results) -> list[str]:
    rate = results.count / results.load_seconds if results.load_seconds else 0.0
    return [f"{results.count:,} tickets over two years with SLA clocks; bulk load "
            f"{results.load_seconds:.0f} s ({rate:,.0f} tickets/s)"]


def console(results: Results) -> str:
    from bench import report

    parts = [
        f"opsdesk dashboards — {results.backend}, {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine:  {results.machine}", f"software: {results.software}",
        f"command:  {results.command}", *summary(results), "",
        report.text_table(HEADER, rows(results)), "",
        report.text_table(ASSET_HEADER, asset_rows(results)), "",
    ]
    if warning := results.disturbed():
        parts += [warning, ""]
    missed = results.missed
    parts += ["Targets missed:", *(f"  {m}" for m in missed)] if missed else ["All targets met."]
    return "\n".join(parts)


def markdown(results: Results) -> str:
    from bench import report

    missed = results.missed
    return "\n".join([
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC%z')} with `{results.command}`.", "",
        f"- Machine: {results.machine}", f"- Software: {results.software}",
        *(f"- {line}" for line in summary(results)), "",
        report.markdown_table(HEADER, rows(results)), "",
        report.markdown_table(ASSET_HEADER, asset_rows(results)), "",
        *([f"**{w}**", ""] if (w := results.disturbed()) else []),
        ("**Targets missed:** " + "; ".join(missed)) if missed else "All targets met.",
    ])


def write_readme(results: Results) -> None:
    """Replace this backend's dashboards block in README.md; the rest of the file is kept."""
    from bench import report

    report.replace_block(f"dashboards:{results.backend}",
                         f"### Dashboards, last results: {results.backend}", markdown(results))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000,
                        help="tickets to load (default 100,000)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run against a database 'opsdesk_dashboards' created (and dropped) "
                             "on this server, e.g. postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=50,
                        help="requests per figure and parameters (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--no-write", action="store_true", help="do not update README.md")
    return parser.parse_args(argv)



def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    env = DashboardEnvironment(postgres_url=args.postgres)
    with session(env) as servers:
        server = Server(env=env.env, data_dir=env.data_dir, workers=args.workers)
        servers.append(server)
        results = run(args, env, server)
    print("\n" + console(results))
    if not args.no_write:
        write_readme(results)
        print(f"\nwritten to {README}")
    sys.exit(1 if results.missed else 0)


def run(args: argparse.Namespace, env: Environment, server: Server) -> Results:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from bench import data, report

    command = command_line("bench.dashboards", args.argv)
    cpu = CpuMonitor(env.helper_pids)

    log(f"migrating a fresh {env.backend} database")
    call_command("migrate", interactive=False, verbosity=0)
    people = data.create_people()
    token = data.token_for(people.head)
    cookie = session_cookie(people.head)
    results = Results(backend=env.backend, count=args.count, command=command,
                      machine=report.machine(),
                      software=report.software(data.database_description()))
    log(f"bulk loading {args.count:,} tickets with their SLA clocks")
    now = timezone.now()
    sla = data.SlaClocks()
    began = time.perf_counter()
    data.bulk_load(data.TicketFactory(people, seed=42), args.count,
                   start=now - timedelta(days=730), end=now, sla=sla)
    results.load_seconds = time.perf_counter() - began
    if sla.problem:
        raise RuntimeError(sla.problem)
    data.refresh_statistics()
    call_command("collectstatic", interactive=False, verbosity=0)
    module = people.modules[1].code  # the second busiest module
    connections.close_all()

    log(f"starting opsdesk serve ({args.workers} workers) on port {server.port}")
    server.start()
    assert server.process is not None
    cpu.pgid = server.process.pid
    client = Client(server.port, token)
    log(f"each report, {args.requests} requests per parameter set")
    for name in REPORTS:
        variants: list[dict[str, str]] = (
            [{"days": str(d)} for d in (7, 30, 90)] + [{"days": "90", "module": module}]
            if name in RANGED else [{}, {"module": module}])
        for params in variants:
            results.figures.append(measure_report(client, name, params, args.requests, cpu))
    log("the whole dashboard")
    for params in ({"days": "30"}, {"days": "90"}, {"days": "90", "module": module}):
        results.figures.append(measure_dashboard(client, params, args.requests, cpu))
    client.close()
    log("what the dashboard page sends")
    results.assets = measure_assets(server.port, cookie)
    server.stop()
    return results


if __name__ == "__main__":
    main()
