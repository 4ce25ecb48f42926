"""The pages a person uses on the move, on a phone (390 x 844): the portal, the new report, the
verification page, the ticket page with its actions first, the approval inbox, the queues and
the list of one's notifications.
None scrolls sideways, titles keep their width, and a screenshot of each is kept for review
(in $OPSDESK_PHONE_SCREENSHOTS when set, else under the test's tmp_path)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from opsdesk.notify import verification
from tests.factories import TicketFactory, ticket_in

# Live-server tests commit for real; serialized_rollback brings back the data migrations' rows
# (SLA policies, routing rules, the priority matrix) that earlier such tests emptied.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}
# The narrowest phones in use too, for the pages with the most on them.
SMALL_PHONE = {"width": 360, "height": 740}
LONG_TITLE = "支付模块在月底结算高峰期间批量对账任务超时导致商户收不到结算单"


@pytest.fixture
def on_phone(people_at_browsers: Any, request: Any, tmp_path: Path) -> Any:
    """``on_phone(user, language)``: a signed-in person at a phone-sized window whose
    screenshots go where a reviewer finds them."""
    root = Path(os.environ["OPSDESK_PHONE_SCREENSHOTS"]) if os.environ.get(
        "OPSDESK_PHONE_SCREENSHOTS") else tmp_path / "phones"
    shots = root / re.sub(r"[^\w.-]+", "_", request.node.name)

    def open_phone(user: Any, language: str = "zh-CN", size: dict[str, int] = PHONE) -> Any:
        person = people_at_browsers(user, language)
        person.page.set_viewport_size(size)
        person.shots = shots
        return person

    return open_phone


def fits(person: Any, name: str) -> None:
    """The page as it is now neither scrolls sideways nor hides anything past the right edge;
    its screenshots are kept as ``name`` (the whole page) and ``name-first`` (what the phone
    shows before any scrolling)."""
    person.shot(name)
    person.page.screenshot(path=str(person.shots / f"{name}-first.png"))
    screen = person.page.viewport_size["width"]
    width = person.page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen, f"{name}: {width} px wide"
    # Nothing visible reaches past the right edge (clipped content counts as lost too).
    overflowing = person.page.evaluate("""(screen) => [...document.querySelectorAll('body *')]
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > screen + 1
                     && getComputedStyle(e).visibility !== 'hidden')
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""", screen)
    assert not overflowing, f"{name}: {overflowing} past the right edge"


def widths(person: Any, selector: str) -> list[float]:
    return person.page.eval_on_selector_all(
        selector, "els => els.map(e => e.getBoundingClientRect().width)")


def top(person: Any, selector: str) -> float:
    return person.page.eval_on_selector(selector, "e => e.getBoundingClientRect().top")


def test_the_submitters_pages_on_a_phone(people, on_phone):
    for n in range(3):
        TicketFactory(by=people["submitter"], title=f"{LONG_TITLE} {n}")
    ticket = ticket_in("awaiting_verification", people=people, title="登录后页面一直转圈")
    submitter = on_phone(people["submitter"])

    submitter.goto("/portal/")
    fits(submitter, "01-portal")
    assert widths(submitter, "table.tickets td.title") and all(
        w >= 120 for w in widths(submitter, "table.tickets td.title"))
    # Each row of her list still names its key, title, status and who has it.
    row = submitter.page.locator("table.tickets tbody tr").first.inner_text()
    assert ticket.key in row and ticket.title in row and "待验证" in row and "王磊" in row

    submitter.goto("/portal/new/")
    fits(submitter, "02-new-report")
    assert widths(submitter, "#title")[0] >= 300

    submitter.goto(f"/tickets/{ticket.key}/")
    fits(submitter, "03-ticket-to-verify")
    assert top(submitter, "section.actions") < top(submitter, "ol.timeline")
    # Then what she verifies, before the registration she wrote herself.
    assert top(submitter, "section.actions") < top(submitter, "section.result")
    assert top(submitter, "section.result") < top(submitter, "section[aria-labelledby=reg]")

    link = verification.open_link(ticket)
    assert link is not None
    submitter.goto(urlsplit(verification.url(link, verification.CONFIRM)).path)
    fits(submitter, "04-verify-link")

    submitter.goto("/notifications/")
    fits(submitter, "05-notifications")
    assert submitter.page.locator("li.notice.unread").count() >= 3  # received, assigned, fix


@pytest.mark.parametrize("size", [PHONE, SMALL_PHONE], ids=["390px", "360px"])
def test_the_staffs_pages_on_a_phone(people, on_phone, size):
    for n in range(4):
        TicketFactory(by=people["submitter"], title=f"{LONG_TITLE} {n}")
    waiting = ticket_in("awaiting_approval", people=people, title=LONG_TITLE)

    duty = on_phone(people["duty"], size=size)
    for queue in ("unassigned", "all"):
        duty.goto(f"/tickets/?queue={queue}")
        fits(duty, f"01-queue-{queue}")
        titles = widths(duty, "table.tickets td.title")
        assert titles and all(w >= 120 for w in titles), titles

    head = on_phone(people["head"], size=size)
    head.goto("/approvals/")
    fits(head, "02-approval-inbox")
    assert widths(head, "article.approval h2")[0] >= 120

    owner = on_phone(people["owner"], "en-US", size=size)
    owner.goto(f"/tickets/{waiting.key}/")
    fits(owner, "03-ticket-owner")
    assert widths(owner, ".ticket-head h1")[0] >= 300
    assert top(owner, "section.actions") < top(owner, "ol.timeline")


def test_a_desktop_keeps_the_actions_beside_the_timeline(people, people_at_browsers):
    ticket = ticket_in("analysing", people=people)
    owner = people_at_browsers(people["owner"])
    owner.goto(f"/tickets/{ticket.key}/")
    actions = owner.page.eval_on_selector("section.actions", "e => e.getBoundingClientRect()")
    timeline = owner.page.eval_on_selector("ol.timeline", "e => e.getBoundingClientRect()")
    assert actions["left"] > timeline["left"] + timeline["width"] - 1  # a column to the right
