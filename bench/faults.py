"""``python -m bench.faults``: a fault drill. The desk as ``make run`` starts it (``opsdesk run``:
its supervisor, the web server with two processes, the worker) takes reports, Alertmanager
notifications and health checks without pause while its faults come one after another:

1. the database write-locked for 30 s by another process (SQLite), or refusing every
   connection and dropping the open ones for 15 s (``--postgres URL``: a database restart);
2. the worker SIGKILLed during a burst (the supervisor starts another);
3. one web server process SIGKILLed (Granian starts another).

Printed per phase: requests, answers by kind, the slowest answer, the longest time without a
healthy answer, and how long after the fault's end filing worked again. Afterwards every
acknowledged report and fault must exist exactly once and every ticket be dispatched.
Exit status 1 when anything acknowledged was lost or doubled, any answer was a 5xx other than
503, or the desk did not recover within ``RECOVERY_TARGET`` seconds of a fault's end.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import environment
from bench.alert_storm import fault_alert
from bench.environment import Environment, redact
from bench.server import free_port

RECOVERY_TARGET = 10.0  # seconds after a fault ends until filing works again
CALM_SECONDS = 5.0


@dataclass
class Answer:
    at: float
    kind: str  # report, alert, ping
    status: int  # 0: no answer (connection refused or cut)
    seconds: float


@dataclass
class Record:
    answers: list[Answer] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)  # titles acknowledged with 201
    faults: list[str] = field(default_factory=list)  # fingerprints acknowledged with 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


class Caller:
    """One keep-alive connection that reconnects after any failure."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, payload, {**self.headers,
                                                      "Content-Type": "application/json"})
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return 0, b""


def _loop(stop: threading.Event, every: float, step: Callable[[], None]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        step()
        stop.wait(max(0.0, every - (time.monotonic() - started)))


def start_load(port: int, token: str, secret: str, record: Record,
               stop: threading.Event) -> list[threading.Thread]:
    reporter = Caller(port, {"Authorization": f"Bearer {token}"})
    alerter = Caller(port, {"Authorization": f"Bearer {secret}"})
    pinger = Caller(port, {})
    counter = iter(range(10**9))

    def report() -> None:
        title = f"演练工单 {next(counter)}"
        started = time.monotonic()
        status, _ = reporter.call("POST", "/api/v1/tickets", {
            "title": title, "impact": "few_users", "urgency": "normal",
            "description": "故障演练中提交的报告", "occurred_at": "2026-11-25T09:00:00+08:00",
            "steps_to_reproduce": "演练脚本提交", "error_message": "无",
            "impact_scope": "演练", "submitter_contact": "演练脚本"})
        record.add(Answer(started, "report", status, time.monotonic() - started))
        if status == 201:
            with record.lock:
                record.reports.append(title)

    def alert() -> None:
        base = next(counter) * 5 + 7_000_000
        alerts = [fault_alert(base + i) for i in range(5)]
        started = time.monotonic()
        status, _ = alerter.call("POST", "/api/v1/intake/alertmanager", {
            "version": "4", "status": "firing", "receiver": "opsdesk", "groupKey": str(base),
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0, "alerts": alerts})
        record.add(Answer(started, "alert", status, time.monotonic() - started))
        if status == 200:
            with record.lock:
                record.faults.extend(a["fingerprint"] for a in alerts)

    def ping() -> None:
        started = time.monotonic()
        status, _ = pinger.call("GET", "/api/v1/ping")
        record.add(Answer(started, "ping", status, time.monotonic() - started))

    threads = [threading.Thread(target=_loop, args=(stop, every, step), daemon=True)
               for every, step in ((0.05, report), (0.25, alert), (0.1, ping))]
    for thread in threads:
        thread.start()
    return threads


@dataclass
class Phase:
    name: str
    started: float
    fault_ended: float
    ended: float


def _children(pid: int, pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid), "-f", pattern], capture_output=True,
                           text=True).stdout.split()
    return [int(p) for p in found]


def _descendants(pid: int, pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    ours = []
    for candidate in (int(p) for p in found.split()):
        parent = candidate
        while parent > 1:
            try:
                parent = int(Path(f"/proc/{parent}/stat").read_text().split()[3])
            except (OSError, IndexError, ValueError):
                break
            if parent == pid:
                ours.append(candidate)
                break
    return ours


def hold_write_lock(database: Path, seconds: float) -> None:
    """Another process holding SQLite's write lock (a stuck job, a long import)."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    holder.execute("ROLLBACK")
    holder.close()


def refuse_connections(database_url: str, seconds: float) -> None:
    """PostgreSQL refusing connections to the database and dropping the open ones, as during
    a restart (the server itself stays up for everyone else)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s", (name,))
            time.sleep(seconds)
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def summarise(phase: Phase, answers: list[Answer]) -> dict[str, Any]:
    mine = [a for a in answers if phase.started <= a.at < phase.ended]
    kinds = Counter(
        "2xx" if 200 <= a.status < 300 else "503" if a.status == 503
        else "no answer" if a.status == 0 else f"{a.status}" for a in mine)
    healthy = sorted(a.at + a.seconds for a in mine if 200 <= a.status < 300)
    gap = max((b - a for a, b in itertools.pairwise(healthy)), default=0.0)
    after = [a.at + a.seconds for a in mine
             if a.kind == "report" and a.status == 201 and a.at >= phase.fault_ended]
    recovered = (min(after) - phase.fault_ended) if after else float("inf")
    return {"phase": phase.name, "requests": len(mine), "answers": dict(kinds),
            "slowest_s": round(max((a.seconds for a in mine), default=0.0), 2),
            "longest_gap_s": round(gap, 2), "filing_again_after_s": round(recovered, 2),
            "server_errors": sum(1 for a in mine if a.status >= 500 and a.status != 503)}


def verify(record: Record) -> dict[str, int]:
    from django.db import connections
    from django.db.models import Count

    connections.close_all()  # ours may have been cut by the fault

    from opsdesk.intake.models import Alert
    from opsdesk.tickets.models import Ticket

    titles = Counter(Ticket.objects.filter(title__startswith="演练工单 ")
                     .values_list("title", flat=True))
    faults = dict(Alert.objects.values("identity").annotate(n=Count("id"))
                  .values_list("identity", "n"))
    return {
        "reports_acknowledged": len(record.reports),
        "reports_lost": sum(1 for t in record.reports if titles[t] == 0),
        "reports_doubled": sum(1 for n in titles.values() if n > 1),
        "faults_acknowledged": len(set(record.faults)),
        "faults_lost": sum(1 for f in set(record.faults) if f not in faults),
        "faults_doubled": sum(1 for n in faults.values() if n > 1),
        "undispatched": Ticket.objects.filter(dispatched=False).count(),
    }


def prepare() -> tuple[str, str]:
    from django.core.management import call_command

    from opsdesk.accounts.models import User
    from opsdesk.accounts.services import create_api_token
    from opsdesk.intake import integrations

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("drill", display_name="演练")
    _token, token = create_api_token(user=user, name="drill")
    _integration, secret = integrations.create_integration(name="drill", kind="alertmanager")
    return token, secret


def run_drill(env: Environment, *, lock_seconds: float) -> int:
    token, secret = prepare()
    port = free_port()
    log = Path(env.data_dir) / "run.log"
    with log.open("wb") as out:
        run = subprocess.Popen([sys.executable, "-m", "opsdesk.cli", "run", "--no-demo",
                                "--port", str(port)], env=env.env, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while Caller(port, {}).call("GET", "/api/v1/ping")[0] != 200:
            if time.monotonic() > deadline or run.poll() is not None:
                raise SystemExit(f"opsdesk run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        record, stop, phases = Record(), threading.Event(), []
        threads = start_load(port, token, secret, record, stop)

        def phase(name: str, fault: Callable[[], None]) -> None:
            time.sleep(CALM_SECONDS)
            started = time.monotonic()
            fault()
            fault_ended = time.monotonic()
            time.sleep(RECOVERY_TARGET + CALM_SECONDS)
            phases.append(Phase(name, started, fault_ended, time.monotonic()))
            print(f"  {name}: done", file=sys.stderr)

        if env.backend == "sqlite":
            phase(f"database write-locked {lock_seconds:.0f} s",
                  lambda: hold_write_lock(Path(env.data_dir) / "opsdesk.sqlite3", lock_seconds))
        else:
            phase(f"database refusing connections {lock_seconds:.0f} s",
                  lambda: refuse_connections(env.database_url, lock_seconds))

        def kill_worker() -> None:
            for pid in _children(run.pid, "opsdesk.cli worker"):
                os.kill(pid, signal.SIGKILL)

        def kill_web_process() -> None:
            processes = _descendants(run.pid, "granian")
            os.kill(max(processes), signal.SIGKILL)  # the youngest: a worker, not the master

        phase("worker SIGKILLed", kill_worker)
        phase("one web server process SIGKILLed", kill_web_process)
        stop.set()
        for thread in threads:
            thread.join()
        settle = time.monotonic() + 60
        while time.monotonic() < settle and verify(record)["undispatched"]:
            time.sleep(0.5)
        results: dict[str, Any] = {
            "backend": env.backend,
            "phases": [summarise(p, record.answers) for p in phases], **verify(record)}
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    summaries: list[dict[str, Any]] = results["phases"]
    failed = (results["reports_lost"] or results["reports_doubled"] or results["faults_lost"]
              or results["faults_doubled"] or results["undispatched"]
              or any(p["server_errors"] or p["filing_again_after_s"] > RECOVERY_TARGET
                     for p in summaries))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL at this server")
    parser.add_argument("--lock-seconds", type=float, default=None,
                        help="how long the database fault lasts (30 s SQLite, 15 s PostgreSQL)")
    args = parser.parse_args(argv)
    env = Environment(postgres_url=args.postgres)
    lock = args.lock_seconds or (15.0 if args.postgres else 30.0)
    print(f"fault drill on {redact(args.postgres) if args.postgres else 'SQLite'}",
          file=sys.stderr)
    with environment.session(env):
        return run_drill(env, lock_seconds=lock)


if __name__ == "__main__":
    sys.exit(main())
