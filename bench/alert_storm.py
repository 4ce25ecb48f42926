"""``python -m bench.alert_storm``: an Alertmanager alert storm against the production server.

1. A fresh data folder and SQLite database (or ``--postgres URL``: a database created and
   dropped on that server), migrated; an Alertmanager integration created in this process
   with the server's settings.
2. ``opsdesk serve`` (Granian, 2 workers) on a free port.
3. 10,000 alerts in notifications of 100 (version 4 payloads as Alertmanager sends them): 2,000
   distinct faults, each notified 5 times, so 80% are repeats; posted over a few concurrent
   keep-alive connections as fast as the server answers. Printed: alerts/s, tickets created
   (must equal the distinct faults), the server's memory (RSS summed over its processes).
4. The same storm on a fresh database, with the server SIGKILLed when half the notifications
   are acknowledged and restarted; unanswered notifications are posted again, as Alertmanager
   does. Afterwards: one ticket per fault, and every acknowledged notification processed and
   counted exactly once.

Exit status 1 when a target is missed or a check fails.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import environment
from bench.cpu import CpuMonitor
from bench.environment import Environment, redact
from bench.server import Server, wait_dispatched

RATE_TARGET = 5000.0  # alerts per second
RSS_TARGET_MB = 200.0
URL = "/api/v1/intake/alertmanager"

# (alertname, job, port, severity, summary, description): what a department's Prometheus raises.
RULES = (
    ("NodeDown", "node", 9100, "critical", "节点 {host} 无法访问",
     "node_exporter 已 3 分钟没有响应，请检查主机和网络。"),
    ("NodeHighCPU", "node", 9100, "warning", "{host} CPU 使用率超过 90%",
     "CPU usage on {host} has been above 90% for 10 minutes."),
    ("NodeMemoryPressure", "node", 9100, "warning", "{host} 可用内存低于 5%",
     "MemAvailable below 5% for 5 minutes; the OOM killer may act."),
    ("DiskWillFillIn4Hours", "node", 9100, "warning", "Disk /data on {host} fills in 4 h",
     "Filesystem /data has 6% left and grows 2 GB/h."),
    ("MySQLReplicationLag", "mysql", 9104, "warning", "{host} 主从延迟超过 30 秒",
     "Seconds_Behind_Master 45 s，持续 5 分钟。"),
    ("MySQLDown", "mysql", 9104, "critical", "MySQL on {host} is down",
     "mysqld_exporter reports mysql_up == 0."),
    ("RedisMemoryHigh", "redis", 9121, "warning", "{host} Redis 内存使用超过 85%",
     "used_memory / maxmemory = 0.88，可能开始淘汰键。"),
    ("NginxHigh5xxRate", "nginx", 9113, "error", "网关 {host} 5xx 比例超过 5%",
     "最近 5 分钟 5xx 比例 7.2%，上游 order-service 超时。"),
    ("PaymentApiLatencyHigh", "payment-api", 8080, "critical", "支付接口 P99 延迟超过 2 秒",
     "payment-api on {host}: P99 2.4 s over 10 minutes (threshold 2 s)."),
    ("KafkaConsumerLag", "kafka", 9308, "warning", "消费组 settlement 积压超过 10 万条",
     "Consumer group settlement on {host} lags 132,000 messages."),
    ("CertificateExpiringSoon", "blackbox", 9115, "info",
     "Certificate on {host} expires in 14 days",
     "TLS certificate for pay.example.cn expires on 2026-12-09."),
    ("JvmGcPauseLong", "order-service", 8081, "warning", "{host} Full GC 停顿超过 1 秒",
     "order-service G1 Old Gen pauses of 1.3 s, 4 times in 10 minutes."),
)


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (FNV-1a 64 over the sorted labels)."""
    digest = 0xCBF29CE484222325
    for name in sorted(labels):
        for byte in name.encode() + b"\xff" + labels[name].encode() + b"\xff":
            digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def fault_alert(index: int) -> dict[str, Any]:
    """The firing alert of fault ``index``: one rule on one host."""
    name, job, port, severity, summary, description = RULES[index % len(RULES)]
    host_no = index // len(RULES)
    host = f"10.{host_no // 250}.{(host_no // 50) % 5}.{host_no % 50 + 10}"
    labels = {"alertname": name, "instance": f"{host}:{port}", "job": job,
              "severity": severity, "env": "prod", "region": "cn-east-2"}
    minute = index % 60
    return {
        "status": "firing", "labels": labels,
        "annotations": {"summary": summary.format(host=host),
                        "description": description.format(host=host)},
        "startsAt": f"2026-11-25T07:{minute:02d}:12.345678901Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus-0.ops.example:9090/graph?g0.expr={name}",
        "fingerprint": fingerprint(labels),
    }


def notification(number: int, alerts: list[dict[str, Any]]) -> bytes:
    common = {k: v for k, v in alerts[0]["labels"].items()
              if all(a["labels"].get(k) == v for a in alerts)}
    payload = {
        "receiver": "opsdesk", "status": "firing", "alerts": alerts,
        "groupLabels": {"env": "prod"}, "commonLabels": common, "commonAnnotations": {},
        "externalURL": "http://alertmanager-0.ops.example:9093", "version": "4",
        # The storm's notification number rides in the group key, to trace each post.
        "groupKey": f'{{}}:{{env="prod", storm="{number}"}}', "truncatedAlerts": 0,
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def storm(alerts: int, batch: int, distinct: int, seed: int = 7) -> list[bytes]:
    """``alerts`` alerts of ``distinct`` faults, shuffled, in notifications of ``batch``."""
    templates = [fault_alert(i) for i in range(distinct)]
    order = [i % distinct for i in range(alerts)]
    random.Random(seed).shuffle(order)
    return [notification(n, [templates[i] for i in order[start:start + batch]])
            for n, start in enumerate(range(0, alerts, batch))]


# --- the server's memory -----------------------------------------------------------------


def group_memory_mb(pgid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over the processes of group ``pgid``. RSS counts the pages
    the workers share with the server's main process once per process; PSS divides them."""
    rss = pss = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[2]) != pgid:
                continue
            for line in Path(entry.path, "smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return rss / 1024, pss / 1024


class MemorySampler:
    """The peak of the server's summed RSS, sampled every 100 ms while a storm runs, and the
    worker's."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_rss = self.peak_pss = self.worker_peak_rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            process = self.server.process
            if process is not None:
                rss, pss = group_memory_mb(process.pid)
                self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            worker = self.server.worker
            if worker is not None:
                self.worker_peak_rss = max(self.worker_peak_rss,
                                           group_memory_mb(worker.pid)[0])

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- posting -----------------------------------------------------------------------------


@dataclass
class Posts:
    """The notifications still to post, and what the server answered for each."""

    bodies: list[bytes]
    pending: list[int] = field(default_factory=list)
    acknowledged: dict[int, int] = field(default_factory=dict)  # notification → message id
    retried: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pending = list(range(len(self.bodies)))[::-1]

    def take(self) -> int | None:
        with self.lock:
            return self.pending.pop() if self.pending else None

    def give_back(self, number: int) -> None:
        with self.lock:
            self.retried.add(number)
            self.pending.append(number)

    def done(self, number: int, message_id: int) -> None:
        with self.lock:
            self.acknowledged[number] = message_id


class Connection:
    def __init__(self, port: int, secret: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {secret}",
                        "Content-Type": "application/json", "Accept-Language": "en"}
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.connect()
            assert self.conn.sock is not None
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.conn.request("POST", URL, body=body, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Posting:
    """Every notification posted over ``connections`` keep-alive connections, each in its own
    thread; a post that gets no answer (the server died) is posted again, as Alertmanager
    retries."""

    def __init__(self, posts: Posts, port: int, secret: str, connections: int,
                 deadline: float) -> None:
        self.posts, self.port, self.secret, self.deadline = posts, port, secret, deadline
        self.threads = [threading.Thread(target=self._post) for _ in range(connections)]
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()

    def wait(self) -> float:
        """The wall time from the first post to the last answer."""
        for thread in self.threads:
            thread.join()
        return time.perf_counter() - self.started

    def _post(self) -> None:
        posts = self.posts
        connection = Connection(self.port, self.secret)
        try:
            while time.monotonic() < self.deadline:
                number = posts.take()
                if number is None:
                    if not posts.pending and len(posts.acknowledged) == len(posts.bodies):
                        return
                    time.sleep(0.01)  # another connection may still give one back
                    continue
                try:
                    status, answer = connection.post(posts.bodies[number])
                except (OSError, http.client.HTTPException):
                    posts.give_back(number)
                    time.sleep(0.05)
                    continue
                if status != 200:
                    posts.errors.append(f"notification {number}: {status} {answer[:300]!r}")
                    if status < 500:
                        return
                    posts.give_back(number)
                    continue
                posts.done(number, json.loads(answer)["message"])
        finally:
            connection.close()


# --- checks ------------------------------------------------------------------------------


@dataclass
class Tally:
    tickets: int
    alerts: int
    occurrences: int
    processed_alerts: int
    statuses: dict[str, int]
    unprocessed_acknowledged: list[int]
    undispatched: int


def tally(posts: Posts) -> Tally:
    """What the database holds after a storm, read from this process."""
    from django.db import connections
    from django.db.models import Count, Sum

    from opsdesk.intake.models import Alert, InboundMessage, InboundStatus
    from opsdesk.tickets.models import Ticket

    statuses = dict(InboundMessage.objects.values_list("status").annotate(n=Count("id")))
    processed = InboundMessage.objects.filter(status=InboundStatus.PROCESSED)
    processed_alerts = sum(len(r["created"]) + len(r["repeated"])
                           for r in processed.values_list("result", flat=True))
    acknowledged = set(posts.acknowledged.values())
    done = set(processed.filter(pk__in=acknowledged).values_list("pk", flat=True))
    result = Tally(
        tickets=Ticket.objects.count(), alerts=Alert.objects.count(),
        occurrences=Alert.objects.aggregate(n=Sum("occurrences"))["n"] or 0,
        processed_alerts=processed_alerts, statuses=statuses,
        unprocessed_acknowledged=sorted(acknowledged - done),
        undispatched=Ticket.objects.filter(dispatched=False).count(),
    )
    connections.close_all()
    return result


# --- the runs ----------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def prepare(env: Environment) -> str:
    """A migrated database and an Alertmanager integration; its secret."""
    from django.core.management import call_command
    from django.db import connections

    from opsdesk.intake import integrations

    call_command("migrate", interactive=False, verbosity=0)
    _integration, secret = integrations.create_integration(name="alert-storm", kind="alertmanager")
    connections.close_all()  # no connection (nor SQLite read snapshot) held during the storm
    return secret


def warm_up(port: int, connections: int) -> None:
    """Each server worker loads Django's URLs and the API before the clock starts."""
    for _ in range(connections * 4):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/ping")
        conn.getresponse().read()
        conn.close()


@dataclass
class Outcome:
    name: str
    rate: float
    wall: float
    tally: Tally
    rss: tuple[float, float]
    peak: tuple[float, float]
    other_cpu: float | None
    posts: Posts
    problems: list[str]
    dispatched_in: float  # s from the storm's start until the worker dispatched every ticket
    worker_peak_rss: float


def run_storm(args: argparse.Namespace, env: Environment, *, kill_halfway: bool) -> Outcome:
    name = "storm with SIGKILL + restart halfway" if kill_halfway else "storm"
    secret = prepare(env)
    server = Server(env=env.env, data_dir=env.data_dir, workers=args.workers)
    monitor = CpuMonitor(server.worker_pids)
    bodies = storm(args.alerts, args.batch, args.distinct)
    posts = Posts(bodies)
    try:
        log(f"{name}: starting opsdesk serve ({args.workers} workers) on port {server.port}")
        server.start()
        assert server.process is not None
        monitor.pgid = server.process.pid
        warm_up(server.port, args.connections)
        log(f"{name}: {args.alerts:,} alerts ({args.distinct:,} faults) in {len(bodies)} "
            f"notifications over {args.connections} connections")
        with monitor.measure() as share, MemorySampler(server) as sampler:
            posting = Posting(posts, server.port, secret, args.connections,
                              deadline=time.monotonic() + args.timeout)
            if kill_halfway:
                # From this thread: the server dies with the thread that started it.
                kill_and_restart(server, posts, monitor)
            wall = posting.wait()
            assert server.process is not None
            rss = group_memory_mb(server.process.pid)
            dispatched_in = wall + wait_dispatched(args.timeout)
        counted = tally(posts)
    finally:
        server.stop()
    problems = check(args, posts, counted, kill_halfway=kill_halfway, log_tail=server.log())
    return Outcome(name, args.alerts / wall, wall, counted, rss,
                   (sampler.peak_rss, sampler.peak_pss), share.other, posts, problems,
                   dispatched_in, sampler.worker_peak_rss)


def kill_and_restart(server: Server, posts: Posts, monitor: CpuMonitor) -> None:
    """SIGKILL the server's whole process group once half the notifications are answered,
    then start it again on the same port."""
    while len(posts.acknowledged) < len(posts.bodies) // 2:
        if posts.errors:
            return
        time.sleep(0.001)
    server.kill()
    log(f"  SIGKILLed the server with {len(posts.acknowledged)} of {len(posts.bodies)} "
        "notifications acknowledged; restarting it")
    server.start()
    assert server.process is not None
    monitor.pgid = server.process.pid
    log("  the server is back")


def check(args: argparse.Namespace, posts: Posts, counted: Tally, *, kill_halfway: bool,
          log_tail: str) -> list[str]:
    problems = list(posts.errors)
    if len(posts.acknowledged) != len(posts.bodies):
        problems.append(f"only {len(posts.acknowledged)} of {len(posts.bodies)} notifications "
                        f"were acknowledged\n{log_tail}")
    if counted.tickets != args.distinct or counted.alerts != args.distinct:
        problems.append(f"{counted.tickets} tickets and {counted.alerts} alerts for "
                        f"{args.distinct} distinct faults")
    if counted.unprocessed_acknowledged:
        problems.append(f"acknowledged but not processed: {counted.unprocessed_acknowledged}")
    if counted.undispatched:
        problems.append(f"{counted.undispatched} tickets never dispatched by the worker")
    # Every processed notification counted once, and nothing processed twice but a post the
    # server committed and then died before answering (its retry counts it again).
    if counted.occurrences != counted.processed_alerts:
        problems.append(f"{counted.occurrences} occurrences counted but the processed "
                        f"notifications carry {counted.processed_alerts} alerts")
    extra = counted.occurrences - args.alerts
    may_repeat = len(posts.retried) * args.batch if kill_halfway else 0
    if not 0 <= extra <= may_repeat:
        problems.append(f"{counted.occurrences} occurrences for {args.alerts} alerts posted "
                        f"({len(posts.retried)} notifications posted again)")
    return problems


def report(outcome: Outcome, args: argparse.Namespace) -> None:
    t = outcome.tally
    other = (f", other processes used {outcome.other_cpu:.0%} of the CPUs"
             if outcome.other_cpu is not None else "")
    print(f"\n{outcome.name}")
    print(f"  alerts/s            {outcome.rate:8,.0f}   ({args.alerts:,} alerts in "
          f"{outcome.wall:.2f} s{other})   target ≥ {RATE_TARGET:,.0f}")
    print(f"  tickets             {t.tickets:8,}   (distinct faults: {args.distinct:,})")
    print(f"  occurrences counted {t.occurrences:8,}   (alerts posted: {args.alerts:,})")
    print(f"  notifications       {len(outcome.posts.acknowledged):8,} acknowledged, "
          f"{len(outcome.posts.retried)} posted again; stored: "
          + ", ".join(f"{n} {s}" for s, n in sorted(t.statuses.items())))
    print(f"  dispatched          {outcome.dispatched_in:8.2f} s after the storm began: every "
          "ticket routed, its SLA clocks started, people told (by the worker)")
    print(f"  worker RSS          {outcome.worker_peak_rss:8.0f} MB peak")
    print(f"  server RSS          {outcome.rss[0]:8.0f} MB at the end, peak "
          f"{outcome.peak[0]:.0f} MB (PSS {outcome.rss[1]:.0f} / peak {outcome.peak[1]:.0f} MB)"
          f"   target ≤ {RSS_TARGET_MB:.0f} MB")
    for problem in outcome.problems:
        print(f"  PROBLEM: {problem}")


def missed(outcome: Outcome, *, rate_counts: bool) -> list[str]:
    out = [f"{outcome.name}: {p.splitlines()[0]}" for p in outcome.problems]
    if rate_counts and outcome.rate < RATE_TARGET:
        out.append(f"{outcome.name}: {outcome.rate:,.0f} alerts/s < {RATE_TARGET:,.0f}")
    if outcome.peak[0] > RSS_TARGET_MB:
        out.append(f"{outcome.name}: peak RSS {outcome.peak[0]:.0f} MB > {RSS_TARGET_MB:.0f}")
    return out


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.alert_storm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="alerts per notification")
    parser.add_argument("--distinct", type=int, default=2_000, help="distinct faults")
    parser.add_argument("--connections", type=int, default=4,
                        help="concurrent keep-alive connections (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after (s)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run against a database 'opsdesk_bench' created on this server")
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.distinct > args.alerts:
        sys.exit("--distinct cannot exceed --alerts")
    # Its own database, so that `python -m bench --postgres` running meanwhile keeps its own.
    environment.BENCH_DATABASE = "opsdesk_alert_storm"
    env = Environment(postgres_url=args.postgres)
    outcomes: list[Outcome] = []
    try:
        env.create()
        env.setup_django()
        print(f"alert storm on {env.backend}"
              + (f" ({redact(args.postgres)})" if args.postgres else "")
              + f", {os.cpu_count()} CPUs")
        outcomes.append(run_storm(args, env, kill_halfway=False))
        report(outcomes[-1], args)
        if not args.no_kill:
            env.reset_database()
            outcomes.append(run_storm(args, env, kill_halfway=True))
            report(outcomes[-1], args)
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        sys.exit(130)
    finally:
        env.destroy()
    failures = list(itertools.chain.from_iterable(
        missed(o, rate_counts=(i == 0)) for i, o in enumerate(outcomes)))
    if failures:
        print("\nmissed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall targets met")


if __name__ == "__main__":
    main()

