"""One language at a time (issue 16, item 4): a desk walked through every intake kind and every
workflow action, so that every kind of timeline event occurs (the kinds read from the model:
a new kind fails here until the walk makes it), then every page each role reaches from the
navigation, the tickets' pages, the timeline API and the notifications, read in English and in
Chinese.

English pages may hold no Han character: every name and text people typed is ASCII here, so
any Han character is opsdesk's. Chinese pages may show no field code ("priority") and no
English sentence of the catalogue as text: either is a string said in the wrong language.
Only what a reader sees counts: text outside attributes, scripts and styles."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import polib
import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone, translation

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.roles import Role
from opsdesk.intake import integrations
from opsdesk.intake.models import IntegrationKind
from opsdesk.notify.models import Delivery
from opsdesk.sla.models import BusinessCalendar, SlaPolicy
from opsdesk.tickets import fields as f
from opsdesk.tickets import services, workflow
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.web.timeline import _DESCRIBERS
from tests.conftest import Api
from tests.factories import ModuleFactory, UserFactory
from tests.intake.conftest import Sender
from tests.intake.mail import corpus
from tests.intake.payloads import Fault, notification

pytestmark = pytest.mark.django_db
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Every code the workflow's fields have, as a word on its own: "priority", "problem_type".
FIELD_CODES = sorted({fld.name for t in workflow.TRANSITIONS for fld in t.fields}
                     | {fld.name for fld in workflow.EDITABLE_FIELDS.values()}
                     | {"assignee", "priority", "submitter", "status"})
# A column's or field's code as it is stored ("escalated_at"); not a setting (ALL_CAPS), nor
# the start of a secret shown cut short ("whk_jmu3xx…").
SNAKE_CASE = re.compile(r"(?<![\w./:-])[A-Za-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w…-])")
CODE_WORD = re.compile(r"(?<![\w./:-])(" + "|".join(map(re.escape, FIELD_CODES)) + r")(?![\w-])")
DISK = Fault(
    alertname="DiskWillFillIn4Hours", instance="db-01.prod.example:9100", severity="warning",
    summary="Disk /data will fill within 4 hours",
    description="Filesystem /data on db-01 has 6% space left and is growing at 2 GB/h.",
)
# Pages outside this check: the framework's API explorer, files, downloads, signing out.
SKIPPED = ("/api/docs", "/accounts/logout/", "/static/", "/admin/", "/language/")


class VisibleText(HTMLParser):
    """The text a reader sees in the page's language: no attributes, no script, style or
    template contents, nothing an element marks as another language (lang="en" on a mail
    quoted as it was sent)."""

    HIDDEN = {"script", "style", "template", "noscript"}
    LABELS = {"dt", "th", "label", "legend", "summary", "h1", "h2", "h3", "button"}
    label_open = False
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.open: list[bool] = []  # for each open element: does it hide its text?
        self.tags: list[str] = []
        self.labels: list[str] = []  # the first words of each label, heading and term
        self.page_language = ""
        self.texts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        lang = dict(attrs).get("lang")
        if tag == "html":
            self.page_language = (lang or "").lower()
            return
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]
        if tag in self.VOID:
            return
        hides = tag in self.HIDDEN or (lang is not None and lang.lower() != self.page_language)
        self.open.append(hides)
        self.tags.append(tag)
        self.hidden += hides
        if tag in self.LABELS:
            self.label_open = True

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or tag == "html" or not self.open:
            return
        self.hidden -= self.open.pop()
        self.tags.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.texts.append(" ".join(data.split()))
            if self.label_open and self.tags and self.tags[-1] in self.LABELS:
                self.labels.append(data.strip())
            self.label_open = False


def read(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def english_sentences() -> set[str]:
    """The catalogue's English msgids of more than one word that Chinese says otherwise (not
    names such as "Prometheus Alertmanager"): seen as a whole text on a Chinese page, each is
    a string said in the wrong language."""
    path = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    found = set()
    for item in polib.mofile(str(path)):
        said = [item.msgstr, *item.msgstr_plural.values()]
        for msgid in (item.msgid, item.msgid_plural):
            if (msgid and " " in msgid.strip() and "%" not in msgid and "{" not in msgid
                    and msgid not in said):
                found.add(" ".join(msgid.split()))
    return found


def problems_in(text: Iterable[str], language: str, sentences: set[str]) -> list[str]:
    found = []
    for piece in text:
        if (snake := SNAKE_CASE.search(piece)) is not None:
            found.append(f"code {snake.group(0)!r}: {piece!r}")
        if language == "en" and HAN.search(piece):
            found.append(f"Han in English: {piece!r}")
        if language == "zh-hans":
            # A code among Chinese words ("你不能修改：priority。"), alone, or one no English
            # sentence has ("problem_type"); an English sentence is the catalogue's check.
            code = CODE_WORD.search(piece)
            if code is not None and (HAN.search(piece) or piece.strip() == code.group(1)
                                     or "_" in code.group(1)):
                found.append(f"field code {code.group(1)!r} in Chinese: {piece!r}")
            if piece.rstrip(":：") in sentences:
                found.append(f"English sentence in Chinese: {piece!r}")
    return found


# --- the desk, with ASCII names and texts ------------------------------------------------

def desk(language: str) -> dict[str, User]:
    def person(role: str, name: str, **extra: Any) -> User:
        return UserFactory(roles=[role], display_name=name, department="Operations",
                           language=language, **extra)

    people = {
        "duty": person(Role.DUTY, "Zhang Wei"), "owner": person(Role.OWNER, "Wang Lei"),
        "support": person(Role.SUPPORT, "Li Na"), "developer": person(Role.DEVELOPER, "Zhao Qiang"),
        "ops": person(Role.OPS, "Chen Jing"), "head": person(Role.HEAD, "Liu Yang"),
        "submitter": person(Role.SUBMITTER, "Sun Li"),
        "admin": person(Role.ADMIN, "Admin Ma", is_staff=True),
    }
    ModuleFactory(code="payment", name="Payments", owner=people["owner"])
    # Names an administrator gives (the defaults are named in both languages): ASCII here.
    for policy in SlaPolicy.objects.all():
        policy.name = f"Policy {policy.pk}"
        policy.save(update_fields=["name"])
    BusinessCalendar.objects.update(name="Office calendar")
    return people


REPORT = {
    "title": "Checkout hangs after the card step", "impact": "some_users", "urgency": "high",
    "description": "Since 08:40 the checkout page spins after the card step.",
    "occurred_at": "2024-12-02T09:30:00+08:00", "steps_to_reproduce": "1. add a book 2. pay",
    "error_message": "HTTP 504 from the gateway", "impact_scope": "about 30 shoppers",
    "submitter_contact": "sun.li@example.com",
}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code in (status, 201, 204), response.content.decode()[:500]
    return response.json() if response.content else None


def act(api: Api, key: str, action: str, **fields: Any) -> None:
    ok(api.act(key, action, **fields))


def walk(people: dict[str, User]) -> list[str]:
    """Every intake kind and every action of the procedure, through the API as people do and
    through the services where opsdesk acts itself; the keys of the tickets made."""
    api = {name: Api(user) for name, user in people.items()}
    keys = []
    # 1. A report through the API: routed to the module's owner, and the whole procedure.
    key = ok(api["submitter"].post("/tickets", {**REPORT, "module": "payment"}))["key"]
    keys.append(key)
    act(api["owner"], key, "acknowledge", comment="Looking at the gateway logs")
    act(api["owner"], key, "classify", problem_type="code", module="payment",
        estimate_minutes=120, deadline_at=(timezone.now() + timedelta(hours=2)).isoformat(),
        analysis_notes="Session expiry compared in local time")
    code_fix = {"plan_kind": "code_fix", "plan_summary": "Compare session expiry in UTC",
                "fix_version": "2.3.1",
                "release_at": (timezone.now() + timedelta(hours=3)).isoformat()}
    act(api["owner"], key, "propose_plan", **code_fix)
    act(api["head"], key, "reject_plan", reason="Release window clash, move it to Sunday")
    act(api["owner"], key, "propose_plan", **code_fix)
    act(api["head"], key, "approve", comment="Go ahead")
    act(api["owner"], key, "request_info", comment="Which browser do you use?")
    ok(api["submitter"].post(f"/tickets/{key}/comments", {"body": "Firefox 128 on Windows"}))
    ok(api["duty"].post(f"/tickets/{key}/collaborators", {"add": [people["developer"].username,
                                                              people["ops"].username]}))
    ok(api["owner"].patch(f"/tickets/{key}", {"version": api["owner"].read(key)["version"],
                                              "fields": {"title": "Checkout hangs at payment"}}))
    ok(api["owner"].post(f"/tickets/{key}/worklog", {
        "command": "systemctl restart gateway", "duration_minutes": 5, "target": "gw-01"}))
    ok(api["owner"].post(f"/tickets/{key}/comments", {"body": "Gateway restarted",
                                                      "internal": True}))
    upload = SimpleUploadedFile("gateway.log", b"504 at 08:41\n", content_type="text/plain")
    ok(api["owner"].client.post(f"/api/v1/tickets/{key}/attachments", {"file": upload}))
    act(api["owner"], key, "escalate", reason="Needs a second gateway node")
    act(api["owner"], key, "progress_update", next_step="Deploy 2.3.1 tonight",
        expected_completion_at=(timezone.now() + timedelta(days=1)).isoformat())
    resolution = {"cause": "Expiry compared in local time", "solution": "Released 2.3.1",
                  "time_taken_minutes": 95, "prevention": "A test across time zones"}
    act(api["owner"], key, "resolve", **resolution)
    act(api["submitter"], key, "reject_fix", reason="Still hangs at 15:00")
    act(api["owner"], key, "propose_plan", plan_kind="service_restart",
        plan_summary="Restart the gateway pool", **expected(),
        fit_reason="A restart clears the stuck sessions until 2.3.1 is out")
    act(api["owner"], key, "resolve", **resolution)
    act(api["submitter"], key, "confirm", comment="Works now, thanks")
    services.rate_support(ticket_id=pk(key), by=people["submitter"], score=5,
                          comment="Quick and clear")
    act(api["submitter"], key, "reopen", reason="It hangs again this morning")

    # 2. A report no rule places (no module): the duty engineer triages it.
    second = ok(api["submitter"].post("/tickets", {**REPORT, "title": "Invoice PDF is blank"}))
    keys.append(second["key"])
    act(api["duty"], second["key"], "send_back", reason="Please add the invoice number")
    act(api["submitter"], second["key"], "resume", comment="Invoice 2024-118")
    act(api["duty"], second["key"], "triage", priority="medium",
        assignee=people["support"].username)
    act(api["duty"], second["key"], "reassign", assignee=people["owner"].username,
        reason="The owner knows the PDF service")
    link = ok(api["duty"].post(f"/tickets/{key}/links", {"kind": "related_to",
                                                         "ticket": second["key"]}))
    ok(api["duty"].client.delete(f"/api/v1/tickets/{key}/links/{link['id']}"))
    act(api["duty"], second["key"], "dismiss", reason="Same fault as the first one",
        duplicate_of=key)

    # 3. The other intake kinds, filed by staff as their channels do.
    for source, extra in (("inspection", {}), ("cross_department", {}), ("emergency", {})):
        filed = ok(api["duty"].post("/tickets", {
            **REPORT, "title": f"Filed as {source.replace('_', ' ')}", "source_kind": source,
            "module": "payment", "submitter_name": "Ops desk", **extra}))
        keys.append(filed["key"])
    ok(api["head"].post(f"/tickets/{keys[-2]}/emergency",
                        {"reason": "Payments stopped for everyone"}))
    ok(api["head"].post(f"/tickets/{keys[-2]}/status-updates", {
        "message": "Failover to the second site done",
        "next_update_at": (timezone.now() + timedelta(hours=1)).isoformat()}))

    # A post-incident review: a document its author writes (the summary opsdesk drafts for
    # it is her text to edit, in her language), typed here.
    ok(api["head"].post(f"/tickets/{keys[-2]}/review", {
        "timeline_summary": "10:00 reported, 10:05 failover, 10:40 payments back",
        "root_cause": "A full disk on the primary"}), 201)

    # 4. An alert from Alertmanager, firing then resolved; opsdesk's own follow-ups.
    integration, secret = integrations.create_integration(
        name="prometheus-prod", kind=IntegrationKind.ALERTMANAGER, options={})
    sender = Sender(integration, secret)
    [alert_key] = sender.send(notification(DISK.alert()))["created"]
    keys.append(alert_key)
    sender.send(notification(DISK.alert(resolved=True)))

    # 4b. A mail from outside, with a file over the size limit (left out, said so).
    with override_settings(OPSDESK_MAIL_ALLOWED_DOMAINS=["*"], OPSDESK_ATTACHMENT_MAX_BYTES=1024):
        raw = corpus.plain(sender="buyer@partner.example", name="Wang Fang",
                           subject="Exported report is garbled",
                           text="Every export since Monday shows garbled columns.",
                           files={"export-dump.bin": b"x" * 4096}).raw
        call_command("mailgate", stdin=io.BytesIO(raw), stdout=io.StringIO())
    keys.append(Ticket.objects.latest("pk").key)
    assert TimelineEvent.objects.filter(kind="attachment", data__has_key="skipped").exists()

    # 5. A plan revised, a fix nobody verifies (reminded, closed by opsdesk), reopened, then
    # closed on evidence and archived.
    third = ok(api["submitter"].post("/tickets", {**REPORT, "module": "payment",
                                                  "title": "Refund button greyed out"}))["key"]
    keys.append(third)
    restart = {"plan_kind": "service_restart", "plan_summary": "Restart the refund worker"}
    act(api["owner"], third, "acknowledge")
    classified = {"problem_type": "environment", "module": "payment", "estimate_minutes": 30,
                  "deadline_at": (timezone.now() + timedelta(hours=2)).isoformat()}
    act(api["owner"], third, "classify", **classified)
    act(api["owner"], third, "propose_plan", **restart)
    by_opsdesk(third, "request_progress")
    act(api["owner"], third, "revise_plan", reason="The worker crashes again on start")
    act(api["owner"], third, "propose_plan", **restart)
    act(api["owner"], third, "resolve", **resolution)
    by_opsdesk(third, "remind_verification")
    by_opsdesk(third, "auto_close")
    act(api["duty"], third, "reopen", reason="Greyed out again")
    act(api["owner"], third, "classify", **classified)
    act(api["owner"], third, "propose_plan", **restart, **expected())
    act(api["owner"], third, "resolve", **resolution)
    act(api["owner"], third, "close_with_evidence",
        verification_evidence="The refund log shows refunds since 11:02")
    article = ok(api["owner"].post("/articles", {"ticket": third}), 201)
    ok(api["owner"].post(f"/articles/{article['key']}/publish",
                         {"revision": article["revision"]}))
    act(api["duty"], third, "archive")
    return keys


def expected() -> dict[str, str]:
    return {"expected_completion_at": (timezone.now() + timedelta(days=1)).isoformat()}


def by_opsdesk(key: str, action: str) -> None:
    ticket = TimelineEvent.objects.filter(ticket_id=pk(key)).first().ticket
    services.do_transition(ticket_id=ticket.pk, action=action, by=None, version=ticket.version)


def pk(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


# --- the checks ----------------------------------------------------------------------------

def test_every_kind_of_timeline_event_is_described():
    assert set(TimelineEvent.Kind.values) <= set(_DESCRIBERS), (
        "a timeline event kind without a description: add it to opsdesk/web/timeline.py")


def test_every_field_code_has_a_label():
    assert all(str(fld.label) for fld in f.__dict__.values() if isinstance(fld, f.Field))


def pages_of(client: Client, start: Iterable[str]) -> dict[str, str]:
    """The pages at ``start`` and every page their navigation and content link to on this
    site, one step away: path → HTML."""
    seen: dict[str, str] = {}
    todo = list(start)
    for depth in range(2):
        next_round = []
        for url in todo:
            parts = urlsplit(url)
            if parts.netloc or not parts.path.startswith("/") or url in seen:
                continue
            if any(parts.path.startswith(s) for s in SKIPPED) or "format=" in parts.query:
                continue
            if "/attachments/" in parts.path or parts.path.endswith(("/changes", "/unread")):
                continue
            response = client.get(url, follow=True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            seen[url] = html = response.content.decode()
            if depth == 0:
                next_round += [urldefrag(urljoin(url, link)).url for link in read(html).links]
        todo = next_round
    return seen


@pytest.mark.parametrize(("language", "written_in"), [("en", "zh-hans"), ("zh-hans", "en")])
def test_every_page_and_event_speaks_the_readers_language(language, written_in):
    """Everything is done by people speaking one language and read by people speaking the
    other: text stored in its writer's language shows up as the wrong one. Notifications are
    read in the language their recipients had when they were sent."""
    with time_machine.travel("2026-12-02 10:00 +08:00", tick=True):
        people = desk(written_in)
        keys = walk(people)
        told = english_sentences() if written_in == "zh-hans" else set()
        problems: list[str] = []
        for delivery in Delivery.objects.exclude(recipient=None):
            problems += [f"mail to {delivery.recipient_name} ({delivery.notification_kind}): "
                         f"{p}" for p in problems_in(
                             [delivery.subject, *delivery.body.splitlines()], written_in, told)]
        assert Delivery.objects.exclude(recipient=None).count() > 10
        User.objects.update(language=language)
        for user in people.values():
            user.language = language
        missing = set(TimelineEvent.Kind.values) - set(
            TimelineEvent.objects.values_list("kind", flat=True).distinct())
        assert not missing, f"the walk never makes these timeline events: {sorted(missing)}"
        taken = set(TimelineEvent.objects.values_list("data__action", flat=True))
        untaken = {t.name for t in workflow.TRANSITIONS} - taken
        assert not untaken, f"the walk never takes these actions: {sorted(untaken)}"
        sentences = english_sentences() if language == "zh-hans" else set()
        for name, user in people.items():
            client = Client(HTTP_ACCEPT_LANGUAGE=language)
            client.force_login(user)
            start = ["/", "/tickets/", "/portal/", "/approvals/", "/knowledge/",
                     "/portal/knowledge/", "/dashboards/", "/dashboards/review/",
                     "/notifications/", "/accounts/preferences/", "/accounts/notifications/",
                     "/manage/", *(f"/tickets/{k}/" for k in keys)]
            pages = pages_of(client, start)
            assert any(p.startswith("/tickets/OPS-") for p in pages), name
            if user.is_department_staff:  # the queues and the library's articles too
                assert any("?" in p and p.startswith("/tickets/") for p in pages), sorted(pages)
                assert any(re.fullmatch(r"/knowledge/\d+/", p) for p in pages), sorted(pages)
            else:
                assert any(re.fullmatch(r"/portal/knowledge/\d+/", p) for p in pages), sorted(
                    pages)
            for url, html in pages.items():
                page = read(html)
                problems += [f"{name} {url}: {p}" for p in problems_in(
                    page.texts, language, sentences)]
                if language == "en":  # labels and headings start with a capital
                    problems += [f"{name} {url}: label in lower case: {label!r}"
                                 for label in page.labels if label[:1].islower()
                                 and label not in DISK.labels]  # the source's names
            for key in keys:
                answer = Api(user, language=language).get(f"/tickets/{key}/timeline")
                if answer.status_code != 200:
                    continue
                for event in answer.json():
                    problems += [f"{name} API {key} {event['kind']}: {p}" for p in problems_in(
                        event["text"].splitlines(), language, sentences)]
    problems = list(dict.fromkeys(problems))
    assert not problems, "\n".join(problems)


def test_the_check_sees_what_it_is_for():
    """The checks themselves: they see text, not attributes or scripts, and flag each kind of
    fault they exist for."""
    page = read('<html lang="en"><p title="优先级">Plain <b>words</b><br></p><script>var x = '
                '"中文";</script><div lang="zh-hans">原文 <b>引用</b></div><p>End</p></html>')
    assert page.texts == ["Plain", "words", "End"]
    assert read('<html lang="en"><dl><dt>plan version</dt><dd>#2</dd></dl>'
                '<label>Kind <select><option>shell</option></select></label></html>'
                ).labels == ["plan version", "Kind"]
    assert problems_in(["中文 here"], "en", set())
    assert problems_in(["你不能修改：priority。"], "zh-hans", set())
    assert problems_in(["Fields changed"], "zh-hans", {"Fields changed"})
    assert problems_in(["priority"], "zh-hans", set())
    assert problems_in(["see problem_type"], "zh-hans", set())
    assert problems_in(["Escalated_at: 10:00 → 10:05"], "en", set())
    assert not problems_in(["whk_jmuxx…"], "zh-hans", set())
    assert not problems_in(["After OPSDESK_VERIFICATION_DAYS working days"], "en", set())
    assert not problems_in(["问题类型", "db-01.prod.example", "2.3.1"], "zh-hans", set())
    assert "Fields changed" in english_sentences()
    assert not problems_in(["Module: Payments"], "en", set())
    assert Module.objects.count() == 0


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_refusals_on_the_pages_name_fields_in_the_readers_language(language):
    """An empty report and an action without what it requires are refused in words of the
    reader's language, each field by its label."""
    people = desk(language)
    submitter = Client(HTTP_ACCEPT_LANGUAGE=language)
    submitter.force_login(people["submitter"])
    empty = submitter.post("/portal/new/", {"title": "Ledger is empty", "impact": "some_users",
                                            "urgency": "high"})
    assert empty.status_code == 422
    key = ok(Api(people["submitter"]).post("/tickets", {**REPORT, "title": "Ledger is empty"}))[
        "key"]
    duty = Client(HTTP_ACCEPT_LANGUAGE=language)
    duty.force_login(people["duty"])
    refused = duty.post(f"/tickets/{key}/actions/triage",
                        {"version": Api(people["duty"]).read(key)["version"]}, follow=True)
    sentences = english_sentences() if language == "zh-hans" else set()
    problems = [p for page in (empty, refused)
                for p in problems_in(read(page.content.decode()).texts, language, sentences)]
    assert not problems, problems
    with translation.override(language):  # each refusal names what is missing by its label
        assert str(f.DESCRIPTION.label) in " ".join(read(empty.content.decode()).texts)
        assert str(f.ASSIGNEE.label) in " ".join(read(refused.content.decode()).texts)
