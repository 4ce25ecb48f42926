"""The knowledge pages: similar problems on the ticket page and while a problem is reported
on the portal, the staff's library of articles, and the published ones on the portal with
"this solved my problem"."""

import re

import pytest
from django.test import Client

from opsdesk.knowledge.models import Article, Deflection
from tests.knowledge.archive import reported, solved
from tests.knowledge.test_similar import PAID_BUT_UNPAID, TOLD_AGAIN
from tests.web.conftest import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixed(people, payment):
    return solved(people, **PAID_BUT_UNPAID)


def written_from(browser, ticket):
    response = browser.post(f"/knowledge/from/{ticket.key}")
    assert response.status_code == 302, text(response)
    return Article.objects.get(ticket_links__ticket=ticket, ticket_links__source=True)


def published(browser, article):
    response = browser.post(f"/knowledge/{article.pk}/publish",
                            {"revision": article.revision, "to": "published"})
    assert response.status_code == 302
    article.refresh_from_db()
    return article


def test_staff_see_the_earlier_fix_while_they_analyse_a_ticket(people, browser_as, fixed):
    again = reported(people, **TOLD_AGAIN, module="payment")

    page = text(browser_as(people["duty"], "en").get(f"/tickets/{again.key}/"))

    similar = page[page.index('data-similar'):]
    assert "Similar problems" in similar
    assert similar.index(fixed.key) < similar.index("</section>")
    assert "回调线程池只有 20 个线程" in similar  # its cause, beside the solution


def test_submitters_and_closed_tickets_show_no_similar_problems(people, browser_as, fixed):
    again = reported(people, **TOLD_AGAIN, module="payment")

    assert "data-similar" not in text(browser_as(people["submitter"]).get(
        f"/tickets/{again.key}/"))
    assert "data-similar" not in text(browser_as(people["duty"]).get(f"/tickets/{fixed.key}/"))


def test_the_article_round_trip_in_the_browser(people, browser_as, fixed):
    staff = browser_as(people["owner"], "en")
    ticket_page = text(staff.get(f"/tickets/{fixed.key}/"))
    assert f'action="/knowledge/from/{fixed.key}"' in ticket_page

    article = written_from(staff, fixed)
    page = text(staff.get(f"/knowledge/{article.pk}/"))
    assert PAID_BUT_UNPAID["solution"] in page and 'data-article-status="draft"' in page
    assert f'data-ticket="{fixed.key}"' in page
    assert f"/knowledge/from/{fixed.key}" not in text(staff.get(f"/tickets/{fixed.key}/"))

    edited = staff.post(f"/knowledge/{article.pk}/edit", {
        "revision": article.revision, "title": "付款成功但订单仍显示待支付",
        "problem": article.problem, "cause": article.cause, "solution": article.solution,
        "prevention": article.prevention, "module": "payment", "problem_type": "environment"})
    assert edited.status_code == 302
    article = published(staff, Article.objects.get(pk=article.pk))
    assert article.title == "付款成功但订单仍显示待支付" and article.is_published

    submitter = browser_as(people["other_submitter"], "en")
    library = text(submitter.get("/portal/knowledge/?text=待支付"))
    assert f'href="/portal/knowledge/{article.pk}/"' in library
    assert "<mark>待支付</mark>" in library
    read = text(submitter.get(f"/portal/knowledge/{article.pk}/"))
    assert article.title in read and "This solved my problem" in read

    for _ in range(2):
        thanks = submitter.post(f"/portal/knowledge/{article.pk}/solved", HTTP_HX_REQUEST="true")
        assert thanks.status_code == 200 and f'data-solved="{article.pk}"' in text(thanks)
    article.refresh_from_db()
    assert article.resolved_without_ticket == 1 and article.views == 1
    assert "This solved my problem" not in text(submitter.get(f"/portal/knowledge/{article.pk}/"))
    assert f'data-article="{article.key}"' in text(
        browser_as(people["submitter"]).get(f"/tickets/{fixed.key}/"))


def test_the_new_report_page_asks_for_suggestions_as_the_person_types(people, browser_as):
    page = text(browser_as(people["submitter"], "en").get("/portal/new/"))

    suggestions = re.search(r'<div id="suggestions"[^>]*>', page).group()
    assert 'hx-post="/portal/new/suggestions"' in suggestions
    assert "input delay:600ms from:#title" in suggestions
    assert 'href="/portal/knowledge/"' in page
    assert "/static/vendor/htmx/htmx.min.js" in page and "https://" not in page


def test_suggestions_show_published_articles_to_all_and_earlier_tickets_to_their_own(
        people, browser_as, fixed):
    article = published(browser_as(people["owner"]), written_from(browser_as(people["owner"]),
                                                                  fixed))
    draft = {**TOLD_AGAIN, "module": "payment"}

    own = text(browser_as(people["submitter"], "en").post("/portal/new/suggestions", draft))
    other = text(browser_as(people["other_submitter"], "en").post("/portal/new/suggestions",
                                                                  draft))

    assert f'data-article="{article.key}"' in own and f'data-ticket="{fixed.key}"' in own
    assert 'type="button" hx-post' in own  # inside the report form: no nested form
    assert f'data-article="{article.key}"' in other and fixed.key not in other
    nothing = browser_as(people["submitter"]).post("/portal/new/suggestions", {"title": ""})
    assert nothing.status_code == 200 and text(nothing).strip() == ""


def test_drafts_and_the_staff_library_are_closed_to_submitters(people, browser_as, fixed):
    article = written_from(browser_as(people["owner"]), fixed)
    submitter = browser_as(people["submitter"])

    assert submitter.get(f"/portal/knowledge/{article.pk}/").status_code == 404
    assert article.key not in text(submitter.get("/portal/knowledge/"))
    assert submitter.get("/knowledge/").status_code == 403
    assert submitter.get(f"/knowledge/{article.pk}/").status_code == 403
    assert submitter.post(f"/portal/knowledge/{article.pk}/solved").status_code == 404
    assert f'data-article="{article.key}"' not in text(submitter.get(f"/tickets/{fixed.key}/"))


def test_only_someone_signed_in_can_say_an_article_solved_their_problem(people, browser_as,
                                                                        fixed):
    article = published(browser_as(people["owner"]), written_from(browser_as(people["owner"]),
                                                                  fixed))

    anonymous = Client().post(f"/portal/knowledge/{article.pk}/solved")

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Deflection.objects.count() == 0


def test_user_text_is_shown_as_text(people, browser_as, payment):
    staff = browser_as(people["owner"], "en")
    staff.post("/knowledge/new/", {"title": "<script>alert(1)</script>", "problem": "<b>x</b>",
                                   "solution": "<img src=x onerror=alert(2)>"})
    article = Article.objects.get()
    published(staff, article)

    for page in (text(staff.get(f"/knowledge/{article.pk}/")),
                 text(staff.get("/knowledge/?text=alert")),
                 text(browser_as(people["submitter"]).get(f"/portal/knowledge/{article.pk}/"))):
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>x" not in page
        assert "&lt;script&gt;" in page and "&lt;img src=x" in page


def test_a_bad_edit_is_shown_with_what_was_typed(people, browser_as, fixed):
    staff = browser_as(people["owner"], "en")
    article = written_from(staff, fixed)

    empty = staff.post(f"/knowledge/{article.pk}/edit", {
        "revision": article.revision, "title": "", "problem": "新的问题描述", "solution": ""})
    assert empty.status_code == 422
    assert "Title, Solution" in text(empty) or "title, solution" in text(empty).lower()
    assert "新的问题描述" in text(empty)

    staff.post(f"/knowledge/{article.pk}/publish", {"revision": article.revision,
                                                    "to": "published"})
    stale = staff.post(f"/knowledge/{article.pk}/edit", {
        "revision": article.revision, "title": "旧的", "problem": "p", "solution": "s"})
    assert stale.status_code == 409 and "Reload it" in text(stale)
    unknown = staff.post(f"/knowledge/{article.pk}/tickets", {"ticket": "OPS-999999"})
    assert unknown.status_code == 422 and "No such ticket" in text(unknown)
    article.refresh_from_db()
    assert article.title == PAID_BUT_UNPAID["title"]


def test_the_library_lists_drafts_for_staff_and_pages_both_languages(people, browser_as,
                                                                     payment):
    staff = browser_as(people["owner"], "en")
    for n in range(3):
        staff.post("/knowledge/new/", {"title": f"磁盘告警 {n}", "problem": "磁盘写满",
                                       "solution": "清理日志"})

    english = text(staff.get("/knowledge/?status=draft"))
    chinese = browser_as(people["owner"]).get("/knowledge/")

    assert english.count('href="/knowledge/') >= 3 and "Knowledge articles" in english
    assert chinese.status_code == 200
    assert text(staff.get("/knowledge/?status=published")).count("磁盘告警") == 0
