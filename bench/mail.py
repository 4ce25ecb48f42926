"""``python -m bench.mail``: mail through ``opsdesk mailgate --batch``, in messages per second.

1. A fresh data folder and SQLite database (or ``--postgres URL``: a database created and
   dropped on that server), migrated; a duty engineer on the roster, support engineers, and
   300 submitters whose addresses the mail comes from.
2. A folder of realistic messages written as mail clients write them (Outlook's GBK labelled
   gb2312 with base64, Foxmail's GBK, QQ Mail's GB18030, NetEase's UTF-8 quoted-printable, Apple
   Mail with an RFC 2231-named attachment, HTML-only with a script): 70% new problems, 15%
   replies threaded by References to a problem earlier in the folder, 10% auto-replies and
   bounces, 5% duplicates of a message already in the folder.
3. ``opsdesk mailgate --batch FOLDER`` in its own process; its own count of messages per
   second (the import, without Python's start-up) and the wall time of the whole command.
4. Checks: one ticket per new problem, one comment per reply, nothing for the rest.

Exit status 1 when the target is missed or a check fails.
"""

from __future__ import annotations

import argparse
import base64
import quopri
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import environment
from bench.cpu import CpuMonitor
from bench.environment import Environment, redact

RATE_TARGET = 200.0  # messages per second
SUBMITTERS = 300
SYMPTOMS = (
    "用户无法登录系统，提示“会话已过期”", "支付回调接口偶发 504 超时", "导出 Excel 中文乱码",
    "报表页面加载超过 30 秒", "订单提交后状态一直是“处理中”", "VPN 连接后无法访问内网",
    "生僻字客户姓名显示为问号：𠀀 䶮", "短信验证码收不到", "数据库连接池耗尽",
)
DETAILS = ("今天上午 9:30 开始出现，影响运营部全部同事。\n错误信息：java.sql.SQLException",
           "复现步骤：1. 登录 2. 打开订单页 3. 点击导出。\n浏览器 Chrome 120。",
           "华东区用户反馈较多，约 200 人受影响，请尽快处理。")


@dataclass
class Folder:
    path: Path
    new: int = 0
    replies: int = 0
    automatic: int = 0
    duplicates: int = 0

    @property
    def total(self) -> int:
        return self.new + self.replies + self.automatic + self.duplicates


def b64(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def word(text: str, charset: str, codec: str | None = None) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec or charset)).decode()}?="


def render(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "\r\n".join(f"{name}: {value}" for name, value in headers).encode()
    return head + b"\r\n\r\n" + body


def leaf(text: str, *, charset: str, codec: str | None = None, cte: str = "base64",
         subtype: str = "plain") -> tuple[list[tuple[str, str]], bytes]:
    data = text.replace("\n", "\r\n").encode(codec or charset)
    body = b64(data) if cte == "base64" else quopri.encodestring(data)
    return ([("Content-Type", f'text/{subtype}; charset="{charset}"'),
             ("Content-Transfer-Encoding", cte)], body)


def with_file(text_part: tuple[list[tuple[str, str]], bytes], name: str, content: bytes,
              number: int) -> tuple[list[tuple[str, str]], bytes]:
    boundary = f"==bench{number}=="
    file_headers = [("Content-Type", "application/octet-stream"),
                    ("Content-Disposition", "attachment; filename*=utf-8''"
                     + "".join(f"%{b:02X}" for b in name.encode())),
                    ("Content-Transfer-Encoding", "base64")]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + render(h, b) + b"\r\n"
                    for h, b in (text_part, (file_headers, b64(content))))
    return ([("Content-Type", f'multipart/mixed; boundary="{boundary}"')],
            body + b"--" + boundary.encode() + b"--\r\n")


def problem(number: int, sender: str, rng: random.Random) -> tuple[str, bytes]:
    """A new problem from ``sender``, written by one of the common Chinese mail clients."""
    subject = f"{rng.choice(SYMPTOMS)}（{number}）"
    text = f"您好：\n{subject}\n{rng.choice(DETAILS)}"
    client = number % 6
    if client == 0:  # Outlook: GB18030 bytes labelled gb2312
        part = leaf(text, charset="gb2312", codec="gb18030")
        subject_header = word(subject, "gb2312", "gb18030")
    elif client == 1:  # Foxmail
        part = leaf(text, charset="GBK", codec="gb18030")
        subject_header = word(subject, "GBK", "gb18030")
    elif client == 2:  # QQ Mail
        part = leaf(text, charset="gb18030")
        subject_header = word(subject, "gb18030")
    elif client == 3:  # NetEase
        part = leaf(text, charset="UTF-8", cte="quoted-printable")
        subject_header = word(subject, "UTF-8")
    elif client == 4:  # Apple Mail with a screenshot
        part = with_file(leaf(text, charset="utf-8", cte="quoted-printable"), "报错截图.png",
                         rng.randbytes(2048), number)
        subject_header = word(subject, "utf-8")
    else:  # HTML only, with a script that must not survive
        html = f"<html><body><p>{text}</p><script>alert(1)</script></body></html>"
        part = leaf(html, charset="utf-8", subtype="html")
        subject_header = word(subject, "utf-8")
    message_id = f"<bench.{number}@mail.corp.example>"
    headers = [("From", f"{word('用户', 'utf-8')} <{sender}>"), ("To", "helpdesk@corp.example"),
               ("Subject", subject_header), ("Date", "Wed, 25 Nov 2026 09:41:07 +0800"),
               ("Message-ID", message_id), ("MIME-Version", "1.0"), *part[0]]
    return message_id, render(headers, part[1])


def reply(number: int, sender: str, to: str) -> bytes:
    part = leaf("重启后恢复了，谢谢。\n\n在 2026年11月25日 写道：\n> 请重试", charset="utf-8")
    headers = [("From", sender), ("To", "helpdesk@corp.example"),
               ("Subject", word("回复: 问题进展", "utf-8")),
               ("Message-ID", f"<bench.reply.{number}@mail.corp.example>"),
               ("In-Reply-To", to), ("References", to), ("MIME-Version", "1.0"), *part[0]]
    return render(headers, part[1])


def auto_reply(number: int, sender: str) -> bytes:
    part = leaf("我正在休假。", charset="utf-8")
    headers = [("From", sender), ("Subject", word("自动回复: 休假中", "utf-8")),
               ("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"),
               ("Message-ID", f"<bench.auto.{number}@mail.corp.example>"),
               ("MIME-Version", "1.0"), *part[0]]
    return render(headers, part[1])


def write_folder(path: Path, count: int, seed: int = 7) -> Folder:
    rng = random.Random(seed)
    folder = Folder(path)
    opened: list[tuple[str, str, bytes]] = []  # (message id, sender, raw)
    for number in range(count):
        sender = f"submitter{rng.randrange(SUBMITTERS)}@corp.example"
        roll = rng.random()
        if opened and roll < 0.15:
            message_id, author, _raw = rng.choice(opened)
            raw = reply(number, author, message_id)
            folder.replies += 1
        elif roll < 0.25:
            raw = auto_reply(number, sender)
            folder.automatic += 1
        elif opened and roll < 0.30:
            raw = rng.choice(opened)[2]
            folder.duplicates += 1
        else:
            message_id, raw = problem(number, sender, rng)
            opened.append((message_id, sender, raw))
            folder.new += 1
        (path / f"{number:06d}.eml").write_bytes(raw)
    return folder


def prepare_people() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from opsdesk.accounts.models import User
    from opsdesk.accounts.roles import Role
    from opsdesk.accounts.services import grant_roles
    from opsdesk.routing.models import DutyShift

    duty = User.objects.create_user(username="duty", email="duty@corp.example")
    grant_roles(user=duty, roles=[Role.DUTY])
    now = timezone.now()
    DutyShift.objects.create(engineer=duty, starts_at=now - timedelta(days=1),
                             ends_at=now + timedelta(days=1))
    for number in range(4):
        engineer = User.objects.create_user(username=f"support{number}",
                                            email=f"support{number}@corp.example")
        grant_roles(user=engineer, roles=[Role.SUPPORT])
    submitters = [User(username=f"submitter{n}", email=f"submitter{n}@corp.example",
                       display_name=f"提交人{n}", department="运营部") for n in range(SUBMITTERS)]
    for user in User.objects.bulk_create(submitters):
        grant_roles(user=user, roles=[Role.SUBMITTER])


def dispatch_new_tickets() -> tuple[int, float]:
    """What the worker does next with the imported problems, timed in this process."""
    from django.db import connections

    from opsdesk.tickets.dispatch import dispatch_all

    started = time.perf_counter()
    dispatched = dispatch_all()
    seconds = time.perf_counter() - started
    connections.close_all()
    return dispatched, seconds


def counts() -> dict[str, int]:
    from opsdesk.intake.models import InboundMessage, MailMessage
    from opsdesk.tickets.models import Comment, Ticket

    return {"tickets": Ticket.objects.count(), "comments": Comment.objects.count(),
            "ignored": MailMessage.objects.filter(outcome="ignored").count(),
            "stored": InboundMessage.objects.count(),
            "unused": InboundMessage.objects.exclude(status="processed").count()}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.mail", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL instead of SQLite")
    parser.add_argument("--jobs", type=int, default=1,
                        help="mailgate's worker processes (PostgreSQL: one per core)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    environment.BENCH_DATABASE = "opsdesk_mail_bench"
    env = Environment(postgres_url=args.postgres)
    failures: list[str] = []
    try:
        env.create()
        subprocess.run([sys.executable, "-m", "opsdesk.cli", "migrate", "-v", "0"],
                       env=env.env, check=True)
        env.setup_django()
        prepare_people()
        print(f"mail intake on {env.backend}"
              + (f" ({redact(args.postgres)})" if args.postgres else ""))
        with tempfile.TemporaryDirectory(prefix="opsdesk-mail-") as folder_path:
            folder = write_folder(Path(folder_path), args.messages)
            print(f"{folder.total} messages: {folder.new} new problems, {folder.replies} "
                  f"replies, {folder.automatic} auto-replies, {folder.duplicates} duplicates")
            monitor = CpuMonitor(env.helper_pids)
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            with monitor.measure() as usage:
                done = subprocess.run(
                    [sys.executable, "-m", "opsdesk.cli", "mailgate", "--batch", folder_path,
                     "--jobs", str(args.jobs)],
                    env=env.env, capture_output=True, text=True,
                )
            wall = time.perf_counter() - started
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = ((children.ru_utime - children_before.ru_utime)
                   + (children.ru_stime - children_before.ru_stime))
        if done.returncode != 0:
            sys.exit(f"mailgate failed:\n{done.stderr[-3000:]}")
        # "(123/s)" in English, "（每秒 123 封）" in Chinese: the command speaks the site language.
        match = re.search(r"(\d+)/s\)|每秒 (\d+) 封", done.stdout)
        rate = float(match.group(1) or match.group(2)) if match else 0.0
        print(f"  mailgate --batch: {done.stdout.strip()}")
        print(f"  import rate {rate:.0f} messages/s; whole command {wall:.1f} s "
              f"({folder.total / wall:.0f} messages/s with start-up)"
              + (f"; others' CPU {usage.other:.0%}" if usage.other is not None else ""))
        print(f"  mailgate CPU {cpu:.1f} s: {1000 * cpu / folder.total:.1f} ms per message, "
              f"{folder.total / cpu:.0f} messages per CPU-second"
              + (" (PostgreSQL's own CPU not included)" if args.postgres else ""))
        if usage.other is not None and usage.other > 0.10:
            print("  warning: other processes used more than 10% of the machine meanwhile")
        dispatched, seconds = dispatch_new_tickets()
        print(f"  then dispatched {dispatched} new tickets (routed, SLA clocks started, people "
              f"told: the worker's part) in {seconds:.2f} s, {dispatched / seconds:.0f}/s"
              if dispatched else "  no ticket waited for dispatch")
        found = counts()
        print(f"  result: {found}")
        expected = {"tickets": folder.new, "comments": folder.replies,
                    "ignored": folder.automatic, "stored": folder.total, "unused": 0}
        failures += [f"{name}: {found[name]} (expected {value})"
                     for name, value in expected.items() if found[name] != value]
        if rate < RATE_TARGET:
            failures.append(f"rate {rate:.0f} messages/s (target {RATE_TARGET:.0f})")
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        sys.exit(130)
    finally:
        env.destroy()
    if failures:
        print("\nmissed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall targets met")


if __name__ == "__main__":
    main()
