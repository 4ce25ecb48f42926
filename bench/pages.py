"""``python -m bench.pages [--tickets N] [--requests N] [--postgres URL] [--no-write]``: the
web workspace's pages under load, as people open them.

A fresh database is loaded with the bench's department history (100,000 tickets by default,
bench/data.py), a few open tickets are given a working day's timeline (comments, notes, steps),
``opsdesk serve`` (Granian, 2 workers) is started, and one sequential keep-alive client signed
in through the sign-in form as the duty engineer (and as a submitter) times each page: the
workspace queues, a filtered queue, the queue's self-refresh, the ticket page, the approval
inbox and the portal. Targets: the queue page and the ticket page p95 ≤ 100 ms. It also
weighs each page's own CSS and JavaScript, gzip-compressed (target < 300 KB).

The figures are written to bench/README.md between the "pages" markers.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import re
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from itertools import cycle
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.client import Timings
from bench.cpu import CpuMonitor
from bench.environment import Environment, redact, session
from bench.server import Server

P95_TARGET_MS = 100.0
WARMUP = 10  # requests per page before the timed ones
ASSET_BUDGET = 300 * 1024
PASSWORD = "bench-pages-password"
README = Path(__file__).with_name("README.md")
START, END = "<!-- pages:start -->", "<!-- pages:end -->"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Browser:
    """A signed-in browser without the browser: cookies, CSRF, one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:
        sent = {"Accept": "text/html", "Accept-Language": "zh-hans", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        self.conn.request(method, path, body=data, headers=sent)
        response = self.conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - start
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        if response.will_close:
            self.conn.close()
        return response.status, payload, elapsed

    def sign_in(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, payload, _ = self.request("POST", "/accounts/login/", {
            "username": username, "password": PASSWORD,
            "csrfmiddlewaretoken": self.cookies["csrftoken"]},
            headers={"Referer": "http://127.0.0.1/accounts/login/"})
        if status != 302:
            raise RuntimeError(f"sign-in as {username}: {status} {payload[:300]!r}")

    def page(self, path: str, **headers: str) -> tuple[bytes, float]:
        status, payload, elapsed = self.request("GET", path, headers=headers)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {payload[:300]!r}")
        return payload, elapsed


@dataclass
class Figure:
    name: str
    detail: str
    timings: Timings
    target: float | None = None
    other_cpu: float | None = None  # the share of the machine other processes used meanwhile
    server_cpu_ms: float | None = None  # the server's CPU time per request (warm-up included)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.timings.percentile(95) <= self.target


def _time(browser: Browser, paths: list[str], count: int, warmup: int,
          **headers: str) -> Timings:
    rotation = cycle(paths)
    for _ in range(warmup):
        browser.page(next(rotation), **headers)
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        latencies.append(browser.page(next(rotation), **headers)[1])
    return Timings(latencies, time.perf_counter() - start)


def prepare(tickets: int) -> dict[str, Any]:
    """Migrate, create the people (with a password for the two who sign in), load the history,
    and give some open tickets a day's timeline."""
    from django.core.management import call_command
    from django.utils import timezone

    from bench import data

    log("migrating a fresh database")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    people = data.create_people()
    submitter = people.submitters[0]  # the busiest submitter: the longest portal
    for user in (people.duty, submitter):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    factory = data.TicketFactory(people, seed=42)
    end = timezone.now()
    log(f"loading {tickets:,} tickets")
    started = time.perf_counter()
    data.bulk_load(factory, tickets, start=end - timedelta(days=730), end=end,
                   sla=data.SlaClocks())
    log(f"loaded in {time.perf_counter() - started:.0f} s")
    keys = _busy_open_tickets(people)
    data.refresh_statistics()
    return {"duty": people.duty.username, "submitter": submitter.username, "keys": keys}


def _busy_open_tickets(people: Any, count: int = 40, events: int = 30) -> list[str]:
    """The newest open tickets, each with ``events`` comments, notes and steps on its timeline
    (what a ticket worked on for a day looks like)."""
    from django.db import transaction

    from opsdesk.tickets.choices import Status
    from opsdesk.tickets.models import Ticket, TimelineEvent

    open_states = [Status.ANALYSING, Status.PLANNING, Status.IN_PROGRESS]
    tickets = list(Ticket.objects.filter(status__in=open_states).order_by("-id")[:count])
    kinds = [("comment", {"body": "已复现，正在查看日志。", "internal": False}, False),
             ("comment", {"body": "怀疑是连接池配置问题。", "internal": True}, True),
             ("work_log", {"command": "systemctl restart nginx", "kind": "shell",
                           "outcome": "succeeded", "target": "10.0.3.21", "plan": 1,
                           "output": ""}, False)]
    with transaction.atomic():
        TimelineEvent.objects.bulk_create([
            TimelineEvent(ticket=t, kind=kind, actor=t.assignee or people.duty, data=payload,
                          internal=internal, at=t.submitted_at + timedelta(minutes=i))
            for t in tickets for i in range(events)
            for kind, payload, internal in [kinds[i % len(kinds)]]
        ])
    return [t.key for t in tickets]


def measure(port: int, prepared: dict[str, Any], requests: int,
            cpu: CpuMonitor) -> list[Figure]:
    duty = Browser(port)
    duty.sign_in(prepared["duty"])
    figures = []

    def add(name: str, detail: str, paths: list[str], target: float | None = None,
            who: Browser = duty, **headers: str) -> None:
        log(f"{name}: {requests} requests")
        with cpu.measure() as usage:
            timings = _time(who, paths, requests, WARMUP, **headers)
        figure = Figure(name, detail, timings, target, other_cpu=usage.other)
        if usage.server_seconds is not None:
            figure.server_cpu_ms = usage.server_seconds * 1000 / (requests + WARMUP)
        figures.append(figure)

    add("workspace: unassigned queue", "GET /tickets/?queue=unassigned (7 counts, 50 rows)",
        ["/tickets/?queue=unassigned"], P95_TARGET_MS)
    add("workspace: all tickets", "GET /tickets/?queue=all (newest 50 of all)",
        ["/tickets/?queue=all"], P95_TARGET_MS)
    add("workspace: breached queue", "GET /tickets/?queue=breached (most overdue first)",
        ["/tickets/?queue=breached"], P95_TARGET_MS)
    add("workspace: filtered", "status + priority, module, type in turn",
        ["/tickets/?queue=all&status=in_progress&priority=high",
         "/tickets/?queue=all&module=payment", "/tickets/?queue=all&type=code"],
        P95_TARGET_MS)
    add("workspace: self-refresh", "the htmx fragment an open queue polls",
        ["/tickets/?queue=unassigned&seen=1"], P95_TARGET_MS, **{"HX-Request": "true"})
    add("ticket page", f"{len(prepared['keys'])} open tickets with 31 timeline events each",
        [f"/tickets/{key}/" for key in prepared["keys"]], P95_TARGET_MS)
    # Signed in only now: an idle keep-alive connection is closed by the server meanwhile.
    submitter = Browser(port)
    submitter.sign_in(prepared["submitter"])
    add("portal", "the busiest submitter's own tickets", ["/portal/"], who=submitter)
    return figures


def asset_weights(port: int, prepared: dict[str, Any]) -> list[tuple[str, int, int]]:
    """Each page's own CSS and JavaScript: (page, files, gzip bytes)."""
    browser = Browser(port)
    browser.sign_in(prepared["duty"])
    weights = []
    for path in ("/tickets/?queue=unassigned", f"/tickets/{prepared['keys'][0]}/"):
        html = browser.page(path)[0].decode()
        assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html)
        size = sum(len(gzip.compress(browser.page(a)[0], 9)) for a in assets)
        weights.append((path, len(assets), size))
    return weights


def markdown(figures: list[Figure], weights: list[tuple[str, int, int]], header: str) -> str:
    lines = [header, "",
             "| page | what | p50 ms | p95 ms | p99 ms | server CPU ms/req | others' CPU "
             "| target |", "|---|---|---|---|---|---|---|---|"]
    for f in figures:
        t = f.timings
        verdict = "—" if f.met is None else ("met" if f.met else "**missed**")
        server = "—" if f.server_cpu_ms is None else f"{f.server_cpu_ms:.1f}"
        others = "—" if f.other_cpu is None else f"{f.other_cpu:.0%}"
        lines.append(f"| {f.name} | {f.detail} | {t.percentile(50):.1f} | "
                     f"{t.percentile(95):.1f} | {t.percentile(99):.1f} | {server} | {others} | "
                     f"{'p95 ≤ 100: ' + verdict if f.target else '—'} |")
    lines += ["", "| page | own CSS + JS files | gzip KB | target |", "|---|---|---|---|"]
    for path, count, size in weights:
        verdict = "met" if size < ASSET_BUDGET else "**missed**"
        lines.append(f"| `{path}` | {count} | {size / 1024:.1f} | < 300 KB: {verdict} |")
    return "\n".join(lines)


def write_readme(section: str) -> None:
    text = README.read_text()
    block = f"{START}\n{section}\n{END}"
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text,
                      flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Web pages (`python -m bench.pages`)\n\n" + block + "\n"
    README.write_text(text)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="per page (default 300)")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server to use instead")
    parser.add_argument("--no-write", action="store_true", help="Do not update README.md.")
    return parser.parse_args(argv)



def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    env = Environment(postgres_url=args.postgres)
    with session(env) as servers:
        prepared = prepare(args.tickets)
        from django.db import connections

        connections.close_all()
        server = Server(env=env.env, data_dir=env.data_dir)
        servers.append(server)
        log(f"starting opsdesk serve (2 workers) on port {server.port}")
        server.start()
        assert server.process is not None
        cpu = CpuMonitor(env.helper_pids)
        cpu.pgid = server.process.pid
        figures = measure(server.port, prepared, args.requests, cpu)
        weights = asset_weights(server.port, prepared)
    from bench import report

    command = " ".join([".venv/bin/python -m bench.pages", *map(redact, sys.argv[1:])])
    header = (f"{time.strftime('%Y-%m-%d %H:%M UTC%z')} · `{command}` · {env.backend} · "
              f"{args.tickets:,} tickets · {report.machine()} · one sequential keep-alive "
              "client, Granian with 2 workers; latency from the first byte sent to the last "
              "byte read. *others' CPU*: the share of the machine other processes used while "
              "it was measured (above 10%, the figure is worse than the machine can do).")
    section = markdown(figures, weights, header)
    print("\n" + section)
    if not args.no_write:
        write_readme(section)
        print(f"\nwritten to {README}")
    missed = any(f.met is False for f in figures) or any(w[2] >= ASSET_BUDGET for w in weights)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
