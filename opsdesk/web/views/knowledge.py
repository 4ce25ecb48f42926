"""Knowledge pages: the staff's library of articles (/knowledge/: drafts too, written from a
closed ticket in one step or from scratch, edited, published, linked to tickets), the
published articles on the portal (/portal/knowledge/) with "this solved my problem", and the
similar problems and articles the new-report page shows while a person types."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import ProblemType
from opsdesk.accounts.selectors import get_module_by_ref, module_names
from opsdesk.bounds import positive_int
from opsdesk.knowledge import selectors, services
from opsdesk.knowledge.models import Article, ArticleStatus
from opsdesk.knowledge.policy import may_edit
from opsdesk.knowledge.similar import Problem, similar_articles, similar_tickets
from opsdesk.tickets.errors import DomainError, NotFound
from opsdesk.tickets.selectors import get_ticket
from opsdesk.web.views.common import Refusal, person, refusals_shown_by, staff_page
from opsdesk.web.views.ticket import back_to_ticket

PER_PAGE = 20
# What the new-report page sends while a person types, read up to these lengths.
DRAFT_LIMITS = {"title": 200, "description": 10_000, "error_message": 10_000, "module": 100}
FORM_FIELDS = ("title", "problem", "cause", "solution", "prevention", "module", "problem_type")


def _article(request: HttpRequest, article_id: int) -> Article:
    """The article if the signed-in person may read it; otherwise 404, whether or not it
    exists."""
    try:
        return selectors.get_article(user=person(request), key=article_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _listing(request: HttpRequest, *, status: str | None) -> dict[str, Any]:
    text = request.GET.get("text", "").strip()[:200]
    module = get_module_by_ref(request.GET.get("module", "")[:100]) \
        if request.GET.get("module") else None
    number = positive_int(request.GET.get("page", "")) or 1
    page = selectors.list_articles(user=person(request), text=text, status=status,
                                   module=module, offset=(number - 1) * PER_PAGE,
                                   limit=PER_PAGE)
    pages = Paginator(range(page.total), PER_PAGE)
    for found in page.items:
        marked = getattr(found, "highlights", None) or {}
        found.hit_lines = [  # type: ignore[attr-defined]
            (getattr(Article._meta.get_field(name), "verbose_name", name), part)
            for name, part in marked.items() if name != "title"]
    return {"articles": page.items, "total": page.total, "text": text,
            "module": module.code if module else "", "modules": module_names(),
            "page": pages.get_page(number)}


@staff_page
def library(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    context = _listing(request, status=status if status in ArticleStatus.values else None)
    return render(request, "web/knowledge/library.html", {
        **context, "nav": "knowledge", "status": status, "statuses": ArticleStatus.choices})


def _posted(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in FORM_FIELDS}


def _new_again(request: HttpRequest, refusal: DomainError) -> HttpResponse:
    """The new article's form again, as it was typed, with the refusal."""
    return _form(request, "web/knowledge/new.html", _posted(request), refusal)


@staff_page
@refusals_shown_by(_new_again)
def new_article(request: HttpRequest) -> HttpResponse:
    values = _posted(request)
    if request.method == "POST":
        article = services.create_article(by=person(request), fields=values)
        messages.success(request, _("%(key)s saved as a draft.") % {"key": article.key})
        return redirect("web:article", article_id=article.pk)
    return _form(request, "web/knowledge/new.html", values)


def _form(request: HttpRequest, template: str, values: dict[str, str],
          problem: DomainError | None = None, **context: Any) -> HttpResponse:
    wrong = set(problem.details.get("missing", [])) | {problem.details.get("field")} \
        if problem else set()
    return render(request, template, {
        **context, "nav": "knowledge", "values": values, "modules": module_names(),
        "problem_types": ProblemType.choices, "error": problem.message if problem else "",
        "error_fields": wrong,
    }, status=problem.status if problem else 200)


@staff_page
def article(request: HttpRequest, article_id: int) -> HttpResponse:
    found = _article(request, article_id)
    return _article_page(request, found)


def _article_page(request: HttpRequest, found: Article, problem: DomainError | None = None,
                  form: str = "") -> HttpResponse:
    user = person(request)
    if problem is not None and form == "edit":
        values = _posted(request)  # what was typed, to correct
    else:
        values = {name: getattr(found, name) for name in FORM_FIELDS if name != "module"}
        values["module"] = found.module.code if found.module else ""
    response = _form(
        request, "web/knowledge/article.html", values,
        problem if form == "edit" else None,
        article=found, editable=may_edit(user, found),
        tickets=selectors.tickets_of_article(user=user, article=found),
        problem_form=form, problem_message=problem.message if problem else "",
    )
    if problem is not None:
        response.status_code = problem.status  # whichever of the page's forms it was
    return response


def _in_form(name: str) -> Refusal:
    """Shows a refusal on the article's page, as it is now, in its form ``name``."""

    def show(request: HttpRequest, refusal: DomainError, article_id: int,
             **_: Any) -> HttpResponse:
        return _article_page(request, _article(request, article_id), refusal, name)

    return show


@staff_page
@require_POST
@refusals_shown_by(_in_form("edit"))
def edit_article(request: HttpRequest, article_id: int) -> HttpResponse:
    found = _article(request, article_id)
    services.update_article(by=person(request), article_id=found.pk,
                            revision=_revision(request), fields=_posted(request))
    messages.success(request, _("Saved."))
    return redirect("web:article", article_id=found.pk)


@staff_page
@require_POST
@refusals_shown_by(_in_form("status"))
def publish_article(request: HttpRequest, article_id: int) -> HttpResponse:
    found = _article(request, article_id)
    publish = request.POST.get("to") != ArticleStatus.DRAFT
    change = services.publish_article if publish else services.withdraw_article
    change(by=person(request), article_id=found.pk, revision=_revision(request))
    messages.success(request, _("Published: everyone signed in can read it now.") if publish
                     else _("Withdrawn: it is a draft again."))
    return redirect("web:article", article_id=found.pk)


@staff_page
@require_POST
@refusals_shown_by(_in_form("link"))
def link_ticket(request: HttpRequest, article_id: int) -> HttpResponse:
    found = _article(request, article_id)
    services.link_ticket(by=person(request), article_id=found.pk,
                         ticket_key=request.POST.get("ticket", "")[:40])
    messages.success(request, _("Linked."))
    return redirect("web:article", article_id=found.pk)


@staff_page
@require_POST
@refusals_shown_by(_in_form("link"))
def unlink_ticket(request: HttpRequest, article_id: int, key: str) -> HttpResponse:
    found = _article(request, article_id)
    ticket = get_ticket(user=person(request), key=key)
    services.unlink_ticket(by=person(request), article_id=found.pk, ticket_id=ticket.pk)
    messages.success(request, _("Link removed."))
    return redirect("web:article", article_id=found.pk)


@staff_page
@require_POST
@refusals_shown_by(back_to_ticket)
def from_ticket(request: HttpRequest, key: str) -> HttpResponse:
    """The ticket page's "Write a knowledge article": a draft from its resolution report."""
    user = person(request)
    try:
        ticket = get_ticket(user=user, key=key)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    written = services.create_article_from_ticket(by=user, ticket_id=ticket.pk)
    messages.success(request, _("%(key)s written from %(ticket)s: check it, then publish it.")
                     % {"key": written.key, "ticket": ticket.key})
    return redirect("web:article", article_id=written.pk)


def _revision(request: HttpRequest) -> int:
    """The revision the person's form was built from; a missing one counts as stale."""
    return positive_int(request.POST.get("revision", "")) or 0


# The portal: published articles for everyone signed in.

@login_required
def portal_library(request: HttpRequest) -> HttpResponse:
    context = _listing(request, status=ArticleStatus.PUBLISHED)
    return render(request, "web/knowledge/portal_library.html",
                  {**context, "nav": "portal_knowledge"})


@login_required
def portal_article(request: HttpRequest, article_id: int) -> HttpResponse:
    found = _article(request, article_id)
    if not found.is_published:
        raise Http404
    services.record_view(article=found)
    return render(request, "web/knowledge/portal_article.html", {
        "nav": "portal_knowledge", "article": found,
        "solved": selectors.has_solved(user=person(request), article=found)})


@login_required
@require_POST
def solved(request: HttpRequest, article_id: int) -> HttpResponse:
    """"This solved my problem": counted once per person; the button becomes a thank-you
    (htmx), or the article page says so."""
    found = _article(request, article_id)
    try:
        services.record_deflection(by=person(request), article_id=found.pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.headers.get("HX-Request"):
        return render(request, "web/knowledge/solved.html", {"article": found, "solved": True})
    messages.success(request, _("Glad it helped: no need to report it."))
    return redirect("web:portal_article", article_id=found.pk)


@login_required
@require_POST
def suggestions(request: HttpRequest) -> HttpResponse:
    """What the new-report page shows while a person types: their own similar closed
    problems (staff: any they may read) and published articles. Asked by POST, so that a
    draft's text stays out of addresses and access logs; it changes nothing."""
    user = person(request)
    draft = {name: request.POST.get(name, "")[:limit] for name, limit in DRAFT_LIMITS.items()}
    try:
        problem = Problem.draft(**draft)
    except DomainError:  # a module that is gone since the page was loaded
        problem = Problem.draft(**{**draft, "module": ""})
    articles = similar_articles(problem=problem)
    return render(request, "web/knowledge/suggestions.html", {
        "tickets": similar_tickets(user=user, problem=problem), "articles": articles,
        "solved": selectors.solved_by(user=user, article_ids=[s.article.pk for s in articles]),
    })
