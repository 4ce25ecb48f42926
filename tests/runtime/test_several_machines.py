"""Several machines on one PostgreSQL: two `opsdesk serve` and two `opsdesk worker` processes,
each with a data folder of its own as on separate machines, sharing nothing but the database,
the uploads folder and the secret key. Reports filed alternately to both servers, one worker
killed (SIGKILL) in the middle: every ticket is dispatched once, every SLA threshold fires and
notifies once, a file uploaded through one server downloads through the other, a sign-in lock
earned on one server holds on the other, and a configuration change made through one server
applies on the other at its next request."""

from __future__ import annotations

import hashlib
import re
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.runtime.desk import Desk, free_port, postgres_base_url, throwaway_desk, wait_for

pytestmark = pytest.mark.skipif(not postgres_base_url(),
                                reason="several machines share one PostgreSQL")

ADMIN_PASSWORD, VICTIM_PASSWORD = "管理员-口令-4711", "victim-pass-9921"
# Short SLA targets instead of time travel (real processes keep real time): response 3 s,
# resolution 6 s, warning at half; each clock passes its warning, breach and +100% (severe).
SETUP = f"""
from decimal import Decimal
from opsdesk.accounts.models import Module, User
from opsdesk.accounts.services import grant_roles
from opsdesk.sla.models import SlaPolicy
User.objects.filter(username="desk-submitter").update(email="sunli@example.com")
owner = User.objects.create_user("desk-owner", email="wang@example.com", display_name="王工")
grant_roles(user=owner, roles=["owner"])
Module.objects.create(code="pay", name="支付", owner=owner)
User.objects.create_superuser("desk-admin", "admin@example.com", {ADMIN_PASSWORD!r})
User.objects.create_user("desk-victim", password={VICTIM_PASSWORD!r}, display_name="李四")
SlaPolicy.objects.create(name="秒级", order=0, response_amount=Decimal("0.05"),
                         response_unit="minutes", resolution_amount=Decimal("0.1"),
                         resolution_unit="minutes", warning_fraction=0.5)
"""
TICKETS = 24
KILL_AFTER = 8
THRESHOLDS = {(clock, threshold) for clock in ("response", "resolution")
              for threshold in ("warning", "breach", "severe")}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Machine:
    """One machine's opsdesk process: its own data folder, the shared uploads and key."""

    def __init__(self, desk: Desk, name: str, shared: dict[str, str]) -> None:
        self.desk, self.name = desk, name
        self.data_dir = desk.data_dir.parent / name
        self.data_dir.mkdir()
        self.env = {**shared, "OPSDESK_DATA_DIR": str(self.data_dir)}
        self.url = ""

    def serve(self) -> Machine:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = self.desk.start("serve", "--port", str(port), "--workers", "1",
                                       log=f"{self.name}.log", env=self.env)
        return self

    def work(self) -> Machine:
        self.process = self.desk.start("worker", log=f"{self.name}.log", env=self.env)
        return self

    def tasks_run(self) -> int:
        """How many queued tasks this worker process claimed (its ids are host-pid-random)."""
        return int(self.desk.query(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE worker_ids::text LIKE %s", f"%-{self.process.pid}-%")[0][0])

    def mails(self) -> list[str]:
        """The Message-IDs of the mail this machine sent (written to its data folder)."""
        return [m for path in (self.data_dir / "mail").glob("*")
                for m in re.findall(r"^Message-ID: (\S+)", path.read_text(), re.M)]


def ready(machine: Machine) -> bool:
    try:
        return requests.get(f"{machine.url}/readyz", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def file_report(machine: Machine, token: str, title: str) -> dict[str, Any]:
    answer = requests.post(f"{machine.url}/api/v1/tickets", timeout=30, json={
        "title": title, "impact": "few_users", "urgency": "normal", "module": "pay",
        "description": "登录失败", "occurred_at": "2024-12-02T09:30:00+08:00",
        "steps_to_reproduce": "登录", "error_message": "500", "impact_scope": "运营部",
        "submitter_contact": "分机 8021",
    }, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def attach_here_and_download_there(here: Machine, there: Machine, token: str, key: str) -> None:
    content = f"{key}: 截图".encode() + bytes(range(256)) * 64
    auth = {"Authorization": f"Bearer {token}"}
    answer = requests.post(f"{here.url}/api/v1/tickets/{key}/attachments", headers=auth,
                           files={"file": ("screen.bin", content)}, timeout=30)
    assert answer.status_code == 201, answer.text
    path = answer.json()["url"]
    download = requests.get(f"{there.url}{path.removeprefix(here.url)}", headers=auth,
                            timeout=30)
    assert download.status_code == 200, download.text
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest()


def sign_in(machine: Machine, session: requests.Session, username: str, password: str) -> int:
    """Sign in on the page as a browser does; the answer's status (302: signed in)."""
    page = session.get(f"{machine.url}/accounts/login/", timeout=30)
    token = CSRF.search(page.text)
    assert token, page.text
    return session.post(f"{machine.url}/accounts/login/", timeout=30, allow_redirects=False,
                        data={"username": username, "password": password,
                              "csrfmiddlewaretoken": token.group(1)},
                        headers={"Referer": f"{machine.url}/accounts/login/"}).status_code


def change_priority_cell(machine: Machine, desk: Desk, *, priority: int) -> None:
    """The admin, signed in on ``machine``, sets the matrix cell few users × normal."""
    browser = requests.Session()
    assert sign_in(machine, browser, "desk-admin", ADMIN_PASSWORD) == 302
    ((cell,),) = desk.query("SELECT id FROM tickets_priorityrule "
                            "WHERE impact = 'few_users' AND urgency = 'normal'")
    form = f"{machine.url}/admin/tickets/priorityrule/{cell}/change/"
    token = CSRF.search(browser.get(form, timeout=30).text)
    assert token
    saved = browser.post(form, timeout=30, allow_redirects=False, headers={"Referer": form},
                         data={"impact": "few_users", "urgency": "normal",
                               "priority": str(priority), "_save": "Save",
                               "csrfmiddlewaretoken": token.group(1)})
    assert saved.status_code == 302, saved.text


def test_two_servers_and_two_workers_on_one_database(tmp_path: Path) -> None:
    with throwaway_desk(tmp_path) as desk:
        desk.opsdesk("shell", "-c", SETUP)
        token = desk.opsdesk("token", "create", "desk-submitter").split()[-1]
        uploads = tmp_path / "shared-uploads"
        shared = {"OPSDESK_UPLOADS_DIR": str(uploads), "OPSDESK_DISPATCH": "worker",
                  "OPSDESK_SECRET_KEY": "several-machines-share-this-key-" + "x" * 20,
                  # As a container image has them: installed with the code, not per machine.
                  "OPSDESK_STATIC_ROOT": str(tmp_path / "static")}
        desk.opsdesk("collectstatic", "--noinput", "--verbosity", "0", env=shared)
        web_a, web_b = Machine(desk, "web-a", shared), Machine(desk, "web-b", shared)
        worker_1, worker_2 = Machine(desk, "worker-1", shared), Machine(desk, "worker-2", shared)
        for machine in (web_a, web_b):
            machine.serve()
        for machine in (worker_1, worker_2):
            machine.work()
        wait_for(lambda: ready(web_a) and ready(web_b), timeout=60, what="both servers ready")

        # The matrix as both servers have it in memory; then the admin edits it through A.
        before = file_report(web_b, token, "修改前")
        assert before["priority"] == file_report(web_a, token, "修改前")["priority"]
        change_priority_cell(web_a, desk, priority=1)

        filed = []
        for number in range(TICKETS):
            here, there = (web_a, web_b) if number % 2 else (web_b, web_a)
            ticket = file_report(here, token, f"第 {number} 号故障")
            filed.append(ticket)
            if number % 4 == 0:
                attach_here_and_download_there(here, there, token, ticket["key"])
            if number == KILL_AFTER:
                # Killed while it works: once it has run tasks of this burst.
                wait_for(lambda: worker_1.tasks_run() > 0, timeout=20, what="worker 1 at work")
                worker_1.process.send_signal(signal.SIGKILL)
        # B read the matrix before the change; it files by the edited cell now, as A does.
        assert {t["priority"] for t in filed} == {"urgent"}, (before, filed)
        assert before["priority"] != "urgent"

        # Five wrong passwords through A (the fifth is refused as locked) lock the account,
        # from this address, on B too: even the right password is refused there.
        tries = [sign_in(web_a, requests.Session(), "desk-victim", "wrong") for _ in range(5)]
        assert tries == [200] * 4 + [429]
        assert sign_in(web_b, requests.Session(), "desk-victim", VICTIM_PASSWORD) == 429

        tickets = TICKETS + 2
        wait_for(lambda: desk.query("SELECT count(*) FROM tickets_ticket "
                                    "WHERE dispatched")[0][0] == tickets,
                 timeout=30, what="every ticket dispatched")
        wait_for(lambda: desk.query("SELECT count(*) FROM sla_notice")[0][0]
                 == tickets * len(THRESHOLDS), timeout=45, what="every SLA threshold fired")
        # Stopped cleanly, the worker finishes what it runs: every mail it sent is recorded.
        worker_2.process.send_signal(signal.SIGTERM)
        worker_2.process.wait(timeout=30)

        assert worker_2.tasks_run() > 0
        events = Counter(desk.query(
            "SELECT ticket_id, data->>'event', data->>'clock_kind' FROM tickets_timelineevent "
            "WHERE kind = 'sla'"))
        started = {ticket for (ticket, event, _clock) in events if event == "started"}
        assert len(started) == tickets
        assert set(events.values()) == {1}, [e for e, n in events.items() if n > 1]
        fired = {(event, clock) for (_ticket, event, clock) in events if event != "started"}
        assert {(clock, threshold) for threshold, clock in fired} == THRESHOLDS
        assert len(events) == tickets * (1 + len(THRESHOLDS))

        mails = worker_1.mails() + worker_2.mails() + web_a.mails() + web_b.mails()
        assert len(mails) == len(set(mails)), "a notification was mailed twice"
        ((sent,),) = desk.query("SELECT count(*) FROM notify_delivery "
                                "WHERE channel_kind = 'email' AND status = 'sent'")
        assert sent == len(mails) > tickets  # received, and the owner told of each breach
        ((breaches,),) = desk.query(
            "SELECT count(*) FROM notify_delivery WHERE notification_kind LIKE 'sla%%'")
        assert breaches > 0
        # Nothing was written to any machine's own data folder, only to the shared one.
        assert not any((m.data_dir / "media").exists()
                       for m in (web_a, web_b, worker_1, worker_2))
        assert len(list((uploads / "attachments").rglob("*"))) >= TICKETS // 4
