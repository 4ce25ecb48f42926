"""``python -m bench.memory [--tickets N] [--rounds R] [--only run|production] [--no-write]``:
how much memory opsdesk's processes hold, idle and under load.

Two arrangements, each on a fresh SQLite database in a temporary data folder:

1. **The tree ``make run`` starts**: ``opsdesk run`` (migrate, demo data, then the supervisor,
   the web server and the worker), started as ``make run`` does and waited for until it
   answers ``/readyz`` (the worker beats).
2. **Production**: ``opsdesk serve`` and ``opsdesk worker``, each started as a service would
   start it (bench/server.py), each measured as a tree of its own.

A thread samples the resident memory (RSS, from ``/proc``) of every process of each tree,
root and descendants, every 50 ms. Each arrangement is measured idle (a few seconds after it
is ready), through a burst of N tickets (default 2,000) created through the API by one
sequential keep-alive client with the duty engineer's token, until the worker has dispatched
them all, and through reads: every page of the open-tickets queue
(``GET /api/v1/tickets?status=<every open status>``, following ``next_cursor``), text
searches, and the workspace's queue page, R rounds (default 3), signed in through the sign-in
form just before (a phase of its own: Django's Argon2 hasher takes 100 MiB for the moment a
password is checked, outside the target's phases). It prints a table per arrangement: each
kind of process (supervisor, web server, web workers, worker) and the tree, at idle, the peak
and the end of each phase; the tree's peak is the largest sum over one sample, not a sum of
peaks. RSS counts the pages processes share (the interpreter, libraries) once in each, and
the pages of mapped files (libraries) as they are read:
a column gives that part at the end, and one the proportional share (PSS, from
``smaps_rollup``) at the end, which counts shared pages once in all.

Target: the ``make run`` tree peaks at ≤ 200 MiB (the lightest peer, django-helpdesk,
peaked at 246 MiB); exit status 1 when missed. The figures are written to bench/README.md
between the "memory" markers unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.client import Client
from bench.environment import Environment, command_line, session
from bench.server import Server, free_port, wait_dispatched

if TYPE_CHECKING:
    from bench.pages import Browser

TARGET_MIB = 200.0
SAMPLE_SECONDS = 0.05
IDLE_SECONDS = 5.0
READY_TIMEOUT = 180.0  # s: migrations and the demo data on first start included
DISPATCH_TIMEOUT = 600.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SEARCHES = ("登录", "接口超时", "导出 Excel")
PHASES = ("idle", "create", "sign-in", "reads")
# The target's phases: the create burst and reads. Signing in is shown apart: its
# password hash (Argon2, Django's parameters) takes 100 MiB for a moment, whatever the tree.
TARGET_PHASES = ("idle", "create", "reads")
ROLES = ("supervisor", "web server", "web workers", "worker", "other")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The process tree, from /proc ---------------------------------------------------------

def _parents() -> dict[int, int]:
    """Every process's parent."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            # The command name (field 2) may hold spaces and parentheses: split after its end.
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return parents


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in parents:
            found.append(pid)
            todo += children.get(pid, [])
    return found


def rss_kib(pid: int) -> tuple[int, int]:
    """Resident KiB, and of those the pages of files (libraries and other mapped files)."""
    with suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/statm").read_text().split()
        return int(fields[1]) * PAGE_SIZE // 1024, int(fields[2]) * PAGE_SIZE // 1024
    return 0, 0


def pss_kib(pid: int) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _cmdline(pid: int) -> str:
    with suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def role(pid: int, parents: dict[int, int], cmdlines: dict[int, str]) -> str:
    """What a process of opsdesk's trees is, from its command line."""
    cmdline = cmdlines.setdefault(pid, _cmdline(pid))
    if "opsdesk.runtime.supervise" in cmdline:
        return "supervisor"
    if "granian" in cmdline:
        parent = parents.get(pid, 0)
        web = ("web server", "web workers")
        return "web workers" if role(parent, parents, cmdlines) in web else "web server"
    if re.search(r"opsdesk(\.cli)? worker", cmdline):
        return "worker"
    return "other"


# --- Sampling ------------------------------------------------------------------------------

@dataclass
class Sample:
    kib: dict[str, int]  # per role
    pids: dict[str, int]
    files: dict[str, int]  # per role, the part of kib that maps files

    @property
    def total(self) -> int:
        return sum(self.kib.values())


@dataclass
class Phase:
    samples: list[Sample] = field(default_factory=list)
    pss: dict[str, int] = field(default_factory=dict)  # per role, at the end

    def peak(self, name: str | None = None) -> int:
        return max((s.total if name is None else s.kib.get(name, 0) for s in self.samples),
                   default=0)

    def end(self, name: str | None = None) -> int:
        if not self.samples:
            return 0
        last = self.samples[-1]
        return last.total if name is None else last.kib.get(name, 0)


class Sampler(threading.Thread):
    """Samples the RSS of every process under ``root`` into the current phase."""

    def __init__(self, root: int) -> None:
        super().__init__(name="memory-sampler", daemon=True)
        self.root = root
        self.phases: dict[str, Phase] = {}
        self.current: Phase | None = None
        self.cmdlines: dict[int, str] = {}
        self.halt = threading.Event()
        self.intervals: list[float] = []

    def sample(self) -> tuple[Sample, dict[int, str]]:
        parents = _parents()
        kib: dict[str, int] = {}
        pids: dict[str, int] = {}
        files: dict[str, int] = {}
        roles = {}
        for pid in descendants(self.root, parents):
            name = roles[pid] = role(pid, parents, self.cmdlines)
            resident, mapped = rss_kib(pid)
            kib[name] = kib.get(name, 0) + resident
            files[name] = files.get(name, 0) + mapped
            pids[name] = pids.get(name, 0) + 1
        return Sample(kib, pids, files), roles

    def run(self) -> None:
        last = time.monotonic()
        while not self.halt.is_set():
            sample, _roles = self.sample()
            if (phase := self.current) is not None:
                phase.samples.append(sample)
            self.halt.wait(SAMPLE_SECONDS)
            now = time.monotonic()
            self.intervals.append(now - last)
            last = now

    @contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        phase = self.phases[name] = Phase()
        self.current = phase
        try:
            yield phase
        finally:
            self.current = None
            sample, roles = self.sample()
            phase.samples.append(sample)
            for pid, name_ in roles.items():
                phase.pss[name_] = phase.pss.get(name_, 0) + pss_kib(pid)

    def stop(self) -> None:
        self.halt.set()
        self.join()


# --- The arrangements ----------------------------------------------------------------------

class RunTree(Server):
    """``opsdesk run`` as ``make run`` starts it, in its own process group (stopped as one by
    ``Server.stop``), on a free port; ready once it printed its address and answers."""

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        import subprocess

        opsdesk = str(Path(sys.executable).with_name("opsdesk"))
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                [opsdesk, "run", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        address = f"opsdesk is running on http://127.0.0.1:{self.port}/"
        while address not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"opsdesk run did not start:\n{self.log()}")
            time.sleep(0.2)
        self._wait_ready(max(1.0, deadline - time.monotonic()))


def wait_ready(port: int, timeout: float = READY_TIMEOUT) -> None:
    """Until ``/readyz`` answers 200: the database, the migrations and a worker's beat."""
    client = Client(port)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with suppress(OSError):
                if client.call("GET", "/readyz")[0] == 200:
                    return
            client.close()
            time.sleep(0.5)
    finally:
        client.close()
    raise RuntimeError(f"/readyz did not answer 200 in {timeout:.0f} s")


@dataclass
class Desk:
    """What the load needs from the database: the duty engineer's token and the demo
    password, and how to draw a ticket."""

    token: str
    password: str
    payload: Callable[[], dict[str, Any]]


def prepare_desk(data_dir: str) -> Desk:
    """A token for the demo's duty engineer, and tickets drawn like bench.data's for the
    demo's people and modules."""
    from django.db import connections

    from bench import data
    from opsdesk.accounts.models import Module, User

    users = {u.username: u for u in User.objects.all()}
    people = data.People(
        duty=users["zhangwei"], head=users["liuyang"], owners=[users["wanglei"]],
        support=[users["lina"]], developers=[users["zhaoqiang"]], ops=[users["chenjing"]],
        submitters=[users["sunli"], users["zhoujie"]], modules=list(Module.objects.all()),
    )
    token = data.token_for(people.duty)
    password = (Path(data_dir) / "demo-password").read_text().strip()
    connections.close_all()  # no connection (nor SQLite read snapshot) held while measuring
    return Desk(token, password, data.TicketFactory(people, seed=42).payload)


def create_burst(port: int, desk: Desk, count: int) -> float:
    """``count`` tickets filed one after another; the rate."""
    client = Client(port, desk.token)
    started = time.perf_counter()
    for _ in range(count):
        client.json("POST", "/api/v1/tickets", desk.payload(), expect=201)
    seconds = time.perf_counter() - started
    client.close()
    return count / seconds


def sign_in(port: int, desk: Desk) -> Browser:
    """The duty engineer signed in through the sign-in form, as a browser does."""
    from bench.pages import Browser

    browser = Browser(port)
    browser.request("GET", "/accounts/login/")
    status, _body, _t = browser.request("POST", "/accounts/login/", {
        "username": "zhangwei", "password": desk.password,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": "http://127.0.0.1/accounts/login/"})
    if status != 302:
        raise RuntimeError(f"signing in as zhangwei: {status}")
    return browser


def reads(port: int, desk: Desk, browser: Browser, rounds: int) -> int:
    """The open-tickets queue page by page, searches, the workspace's queue page; requests."""
    from opsdesk.tickets.workflow import OPEN_STATES

    api = Client(port, desk.token)
    requests = 0
    open_statuses = sorted(str(s) for s in OPEN_STATES)
    for _ in range(rounds):
        cursor: str | None = None
        while True:
            params = {"status": open_statuses, **({"cursor": cursor} if cursor else {})}
            page, _t = api.json("GET", "/api/v1/tickets", params=params)
            requests += 1
            if (cursor := page["next_cursor"]) is None:
                break
        for text in SEARCHES:
            api.json("GET", "/api/v1/tickets", params={"text": text})
            requests += 1
        for _page in range(5):
            browser.page("/tickets/")
            requests += 1
    api.close()
    browser.conn.close()
    return requests


@dataclass
class Measured:
    """One tree's phases."""

    name: str
    phases: dict[str, Phase]

    def roles(self) -> list[str]:
        seen = {r for p in self.phases.values() for s in p.samples for r in s.kib}
        return [r for r in ROLES if r in seen]

    @property
    def peak(self) -> int:
        """The target's peak: of the create burst and the reads (and idle)."""
        return max(self.phases[p].peak() for p in TARGET_PHASES)


@dataclass
class Arrangement:
    title: str
    trees: list[Measured]
    notes: list[str] = field(default_factory=list)
    target_mib: float | None = None

    @property
    def met(self) -> bool | None:
        if self.target_mib is None:
            return None
        return sum(t.peak for t in self.trees) / 1024 <= self.target_mib


def measure(title: str, roots: dict[str, int], port: int, desk: Desk, *, tickets: int,
            rounds: int) -> Arrangement:
    samplers = {name: Sampler(pid) for name, pid in roots.items()}
    for sampler in samplers.values():
        sampler.start()
    notes = []
    try:
        with _phases(samplers, "idle"):
            time.sleep(IDLE_SECONDS)
        log(f"  creating {tickets:,} tickets")
        with _phases(samplers, "create"):
            rate = create_burst(port, desk, tickets)
            lag = wait_dispatched(DISPATCH_TIMEOUT)
        notes.append(f"{tickets:,} tickets created at {rate:,.0f}/s; the worker had dispatched "
                     f"them {lag:.1f} s after the last was answered.")
        with _phases(samplers, "sign-in"):
            browser = sign_in(port, desk)
            time.sleep(1)
        log(f"  reads, {rounds} rounds")
        with _phases(samplers, "reads"):
            requests = reads(port, desk, browser, rounds)
        notes.append(f"Reads: {requests:,} requests.")
    finally:
        for sampler in samplers.values():
            sampler.stop()
    intervals = sorted(i for s in samplers.values() for i in s.intervals)
    if intervals:
        notes.append(f"Sampled every {intervals[len(intervals) // 2] * 1000:.0f} ms (median), "
                     f"{intervals[int(len(intervals) * 0.99)] * 1000:.0f} ms at p99.")
    trees = [Measured(name, s.phases) for name, s in samplers.items()]
    return Arrangement(title, trees, notes)


@contextmanager
def _phases(samplers: dict[str, Sampler], name: str) -> Iterator[None]:
    with _each([s.phase(name) for s in samplers.values()]):
        yield


@contextmanager
def _each(managers: list[Any]) -> Iterator[None]:
    if not managers:
        yield
        return
    with managers[0], _each(managers[1:]):
        yield


def measure_run(env: Environment, servers: list[Server], args: argparse.Namespace) -> Arrangement:
    """The tree ``make run`` starts."""
    tree = RunTree(env=env.env, data_dir=env.data_dir, with_worker=False)
    servers.append(tree)
    log(f"starting opsdesk run on port {tree.port}")
    tree.start()
    wait_ready(tree.port)
    desk = prepare_desk(env.data_dir)
    assert tree.process is not None
    result = measure("`opsdesk run` (the tree `make run` starts)",
                     {"opsdesk run": tree.process.pid}, tree.port, desk,
                     tickets=args.tickets, rounds=args.rounds)
    result.target_mib = TARGET_MIB
    tree.stop()
    return result


def measure_production(env: Environment, servers: list[Server],
                       args: argparse.Namespace) -> Arrangement:
    """``opsdesk serve`` and ``opsdesk worker`` side by side, as their services start them."""
    from django.core.management import call_command
    from django.db import connections

    env.reset_database()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo", verbosity=0)
    connections.close_all()
    workers = int(os.environ.get("OPSDESK_WEB_WORKERS", "2"))
    server = Server(env=env.env, data_dir=env.data_dir, workers=workers)
    server.port = free_port()
    servers.append(server)
    log(f"starting opsdesk serve ({workers} workers) and opsdesk worker on port {server.port}")
    server.start()
    wait_ready(server.port)
    desk = prepare_desk(env.data_dir)
    assert server.process is not None and server.worker is not None
    result = measure(f"`opsdesk serve` ({workers} web workers) and `opsdesk worker`",
                     {"opsdesk serve": server.process.pid, "opsdesk worker": server.worker.pid},
                     server.port, desk, tickets=args.tickets, rounds=args.rounds)
    server.stop()
    return result


# --- The report ----------------------------------------------------------------------------

HEADER = ["process", "count", "idle", "create: peak", "create: end", "reads: peak", "reads: end",
          "of which files at end", "PSS at end", "sign-in: peak"]


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def rows(arrangement: Arrangement) -> list[list[str]]:
    out = []
    for tree in arrangement.trees:
        phases = [tree.phases[p] for p in PHASES]
        idle, create, signing, read = phases
        label = tree.name if len(arrangement.trees) > 1 else ""
        for name in tree.roles():
            count = max(s.pids.get(name, 0) for p in phases for s in p.samples)
            out.append([f"{label}: {name}" if label else name, str(count),
                        _mib(idle.end(name)), _mib(create.peak(name)), _mib(create.end(name)),
                        _mib(read.peak(name)), _mib(read.end(name)),
                        _mib(read.samples[-1].files.get(name, 0)), _mib(read.pss.get(name, 0)),
                        _mib(signing.peak(name))])
        pids = max(sum(s.pids.values()) for p in phases for s in p.samples)
        out.append([f"**{tree.name}, whole tree**", str(pids), _mib(idle.end()),
                    _mib(create.peak()), _mib(create.end()), _mib(read.peak()), _mib(read.end()),
                    _mib(sum(read.samples[-1].files.values())), _mib(sum(read.pss.values())),
                    _mib(signing.peak())])
    return out


def verdict(arrangement: Arrangement) -> str:
    if arrangement.met is None:
        return ""
    peak = sum(t.peak for t in arrangement.trees) / 1024
    mark = "✓" if arrangement.met else "✗ MISSED"
    return f"Tree peak {peak:.0f} MiB: {mark} ≤ {arrangement.target_mib:.0f} MiB."


def console(arrangements: list[Arrangement], command: str) -> str:
    from bench.report import machine, text_table

    parts = [f"opsdesk memory (RSS, MiB) — {time.strftime('%Y-%m-%d %H:%M UTC%z')}",
             f"machine: {machine()}", f"command: {command}"]
    for a in arrangements:
        parts += ["", a.title, text_table(HEADER, [[c.replace("**", "") for c in r]
                                                   for r in rows(a)])]
        parts += [*a.notes, *([v] if (v := verdict(a)) else [])]
    return "\n".join(parts)


def markdown(arrangements: list[Arrangement], command: str) -> str:
    from bench.report import machine, markdown_table, software

    parts = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC%z')} with `{command}`.", "",
             f"- Machine: {machine()}", f"- Software: {software('SQLite')}",
             "- RSS in MiB, sampled every 50 ms; a tree's peak is the largest sum of one sample"]
    for a in arrangements:
        parts += ["", f"**{a.title}**", "", markdown_table(HEADER, rows(a)), "",
                  " ".join([*a.notes, *([f"**{v}**"] if (v := verdict(a)) else [])])]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=2000, help="tickets in the create burst")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of reads")
    parser.add_argument("--only", choices=("run", "production"),
                        help="one arrangement only (does not update README.md)")
    parser.add_argument("--no-write", action="store_true", help="do not update README.md")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    command = command_line("bench.memory", sys.argv[1:] if argv is None else argv)
    env = Environment()
    arrangements = []
    with session(env) as servers:
        if args.only in (None, "run"):
            arrangements.append(measure_run(env, servers, args))
        if args.only in (None, "production"):
            arrangements.append(measure_production(env, servers, args))
    print("\n" + console(arrangements, command))
    if not args.no_write and args.only is None and args.tickets == 2000:
        from bench import report

        report.replace_block("memory", "## Memory: `python -m bench.memory`",
                             markdown(arrangements, command))
        print(f"\nwritten to {report.README}")
    sys.exit(1 if any(a.met is False for a in arrangements) else 0)


if __name__ == "__main__":
    main()
