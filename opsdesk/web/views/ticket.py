"""The ticket page (/tickets/OPS-12/, where notifications link): every registration field, the
timeline, the actions the viewer may take now (forms generated from the workflow table),
comments and internal notes, the work log, collaborators, linked tickets, the time taken, and
"it happened again" once a closed ticket can no longer be reopened."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import User
from opsdesk.bounds import positive_int
from opsdesk.intake.selectors import alerts_of, recorded_alerts_of
from opsdesk.notify import services as notify
from opsdesk.sla.selectors import sla_summary
from opsdesk.tickets import policy, selectors, services, uploads, workflow
from opsdesk.tickets.choices import (
    Channel,
    LinkKind,
    PlanFit,
    SourceKind,
    StepKind,
    StepOutcome,
)
from opsdesk.tickets.errors import DomainError, InvalidField, NotFound, ReadOnlyTicket
from opsdesk.tickets.models import Plan, Ticket
from opsdesk.web import action_forms
from opsdesk.web.timeline import entry
from opsdesk.web.views.common import Refusal, person, refusals_shown_by

Problem = tuple[str, DomainError]
# Forms of the page that show their own refusals (the others are the action forms).
OWN_FORMS = frozenset({"comment", "work_log", "collaborators", "attachment", "rating", "link",
                       "recurrence"})


def visible_ticket(user: User, key: str) -> Ticket:
    """The ticket if ``user`` may read it; otherwise 404, whether or not it exists."""
    try:
        return selectors.get_ticket(user=user, key=key)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _version(request: HttpRequest) -> int:
    """The version the person's form was built from; a missing one counts as stale."""
    raw = request.POST.get("version", "")
    return positive_int(raw) or 0


def page_context(request: HttpRequest, ticket: Ticket,
                 problem: Problem | None = None) -> dict[str, Any]:
    user = person(request)
    choices = action_forms.Choices()
    forms = [action_forms.action_form(t, ticket, choices)
             for t in policy.available_actions(user, ticket)]
    editable = set() if ticket.is_read_only else policy.editable_fields(user, ticket)
    edit = action_forms.edit_form(ticket, editable, choices)
    unplaced = ""  # a refusal of an action no longer offered (someone else acted first)
    if problem is not None:
        name, exc = problem
        form = next((x for x in [*forms, edit] if x is not None and x.name == name), None)
        if form is not None:
            action_forms.show_problem(form, exc, request.POST)
        elif name not in OWN_FORMS or isinstance(exc, ReadOnlyTicket):
            # A read-only ticket's page shows none of its forms to put the refusal in.
            unplaced = exc.message
    manages = policy.may_manage_collaborators(user, ticket)
    rating = getattr(ticket, "rating", None) if ticket.is_read_only else None
    # An archived ticket's record is final: no form changes it (the services refuse too).
    archived = ticket.status == workflow.S.ARCHIVED
    # The time taken is part of the result the page shows once there is one.
    has_result = bool(ticket.cause or ticket.solution)
    return {
        "ticket": ticket,
        "sla": sla_summary(getattr(ticket, "sla_clock", None), timezone.now()),
        "plan": ticket.current_plan,
        "risk_labels": plan_risks(ticket.current_plan),
        "forms": forms,
        "edit": edit,
        "entries": [entry(e) for e in selectors.timeline(user=user, ticket=ticket)],
        "alerts": alerts_of(ticket=ticket) if ticket.source_kind == SourceKind.ALERT else (),
        "recorded_alerts": (recorded_alerts_of(ticket=ticket)
                            if ticket.source_kind == SourceKind.ALERT else ()),
        "is_staff": user.is_department_staff,
        "may_comment": not ticket.is_read_only,
        "may_log_work": policy.may_log_work(user, ticket),
        "manages_collaborators": manages,
        "collaborator_choices": choices.collaborators if manages else [],
        "attachments": selectors.attachments_for(user=user, ticket=ticket),
        "may_attach": not ticket.is_read_only,
        "may_rate": (rating is None and ticket.is_read_only and not archived
                     and ticket.submitter_id == user.pk),
        "rating": rating,
        "step_kinds": StepKind.choices,
        "links": selectors.links_of(user=user, ticket=ticket),
        "may_link": user.is_department_staff and not archived,
        "link_kinds": LinkKind.choices,
        "may_report_recurrence": policy.may_report_recurrence(user, ticket),
        "time": selectors.time_taken(user=user, ticket=ticket) if has_result else None,
        "step_outcomes": StepOutcome.choices,
        "problem": problem[0] if problem else "",
        "problem_message": problem[1].message if problem else "",
        "unplaced_problem": unplaced,
        "posted": request.POST if problem else {},
    }


def plan_risks(plan: Plan | None) -> list[str]:
    """Why a plan waits for the head, in words: its flags, and the table's when its kind does
    not fit the problem's type (tickets/risk.py)."""
    if plan is None:
        return []
    risks = [str(fld.label) for fld in workflow.RISK_FLAGS if getattr(plan, fld.name)]
    if plan.fit == PlanFit.NEEDS_APPROVAL:
        risks.append(str(plan.get_fit_display()))
    return risks


def _render(request: HttpRequest, ticket: Ticket, problem: Problem | None = None) -> HttpResponse:
    status = problem[1].status if problem else 200
    return render(request, "web/ticket.html", page_context(request, ticket, problem),
                  status=status)


def _again(request: HttpRequest, key: str, problem: Problem) -> HttpResponse:
    """The page again, as it is now, with the refusal where the person acted."""
    return _render(request, visible_ticket(person(request), key), problem)


def _in_form(name: str) -> Refusal:
    """Shows a refusal in the page's form ``name``."""

    def show(request: HttpRequest, refusal: DomainError, key: str, **_: Any) -> HttpResponse:
        return _again(request, key, (name, refusal))

    return show


def _in_action_form(request: HttpRequest, refusal: DomainError, key: str,
                    action: str) -> HttpResponse:
    """Shows a refused action in the action's own form."""
    return _again(request, key, (action, refusal))


def back_to_ticket(request: HttpRequest, refusal: DomainError, key: str,
                   **_: Any) -> HttpResponse:
    """Tells a refusal above the ticket's page, where the person is sent back."""
    messages.error(request, refusal.message)
    return redirect("web:ticket", key=visible_ticket(person(request), key).key)


@login_required
def ticket_page(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    # Reading the ticket is reading what one was told about it (the in-app list's unread).
    notify.mark_notices_read(user=user, ticket=ticket)
    return _render(request, ticket)


@login_required
@require_POST
@refusals_shown_by(_in_action_form)
def act(request: HttpRequest, key: str, action: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    transition = workflow.get(action)
    if transition is None:
        raise Http404
    values = action_forms.posted_values(transition.fields, request.POST)
    services.do_transition(ticket_id=ticket.pk, action=action, by=user,
                           version=_version(request), fields=values)
    messages.success(request, _("%(action)s: done.") % {"action": transition.label})
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("edit"))
def edit(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    fields = [fld for name, fld in workflow.EDITABLE_FIELDS.items() if name in request.POST]
    values = action_forms.posted_values(fields, request.POST, keep_empty=True)
    changed = action_forms.changed_values(ticket, fields, values)
    services.update_ticket(ticket_id=ticket.pk, by=user, version=_version(request),
                           fields=changed)
    messages.success(request, _("Saved."))
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("comment"))
def comment(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    internal = request.POST.get("kind") == "note"
    services.add_comment(ticket_id=ticket.pk, by=user, body=request.POST.get("body", ""),
                         internal=internal)
    messages.success(request, _("Internal note added.") if internal else _("Reply sent."))
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("work_log"))
def work_log(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    post = request.POST
    try:
        services.add_work_log_step(
            ticket_id=ticket.pk, by=user, command=post.get("command", ""),
            kind=post.get("kind") or StepKind.SHELL,
            outcome=post.get("outcome") or StepOutcome.SUCCEEDED,
            output=post.get("output", ""), target=post.get("target", ""),
            internal="shared" not in post,
            duration_minutes=post.get("duration_minutes", ""),
        )
    except ValueError as exc:  # an outcome the form does not offer
        raise DomainError(_("Invalid step.")) from exc
    messages.success(request, _("Step recorded."))
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("collaborators"))
def collaborators(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    add = [ref for ref in request.POST.getlist("add") if ref]
    remove = [ref for ref in request.POST.getlist("remove") if ref]
    services.set_collaborators(ticket_id=ticket.pk, by=user, add=add, remove=remove)
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("attachment"))
def attach(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    upload = request.FILES.get("file")
    uploads.raise_refusal(request)
    if upload is None:
        raise InvalidField(_("Choose a file."), field="file")
    services.add_attachment(
        ticket_id=ticket.pk, by=user, name=upload.name or "", content=upload,
        content_type=upload.content_type or "", internal="internal" in request.POST,
    )
    messages.success(request, _("File attached."))
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("rating"))
def rate(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    raw = request.POST.get("score", "")
    services.rate_support(ticket_id=ticket.pk, by=user,
                          score=positive_int(raw) or 0,
                          comment=request.POST.get("comment", ""))
    messages.success(request, _("Thank you for your rating."))
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("link"))
def link(request: HttpRequest, key: str) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    services.link_tickets(ticket_id=ticket.pk, by=user, other=request.POST.get("ticket", ""),
                          kind=request.POST.get("kind", ""))
    messages.success(request, _("Linked."))
    return redirect("web:ticket", key=ticket.key)


@login_required
@require_POST
@refusals_shown_by(_in_form("link"))
def unlink(request: HttpRequest, key: str, link_id: int) -> HttpResponse:
    user = person(request)
    ticket = visible_ticket(user, key)
    services.unlink_tickets(ticket_id=ticket.pk, by=user, link_id=link_id)
    messages.success(request, _("Link removed."))
    return redirect("web:ticket", key=ticket.key)


RECURRENCE_FIELDS = ("description", "occurred_at", "steps_to_reproduce", "error_message",
                     "impact_scope")


@login_required
@require_POST
@refusals_shown_by(_in_form("recurrence"))
def recurrence(request: HttpRequest, key: str) -> HttpResponse:
    """"It happened again", on a closed ticket that can no longer be reopened: a new report,
    linked to this one as its recurrence."""
    user = person(request)
    original = visible_ticket(user, key)
    values = {name: request.POST.get(name, "") for name in RECURRENCE_FIELDS}
    ticket = services.report_recurrence(ticket_id=original.pk, by=user, channel=Channel.WEB,
                                        **values)
    messages.success(request, _("%(key)s registered as a recurrence of %(original)s.")
                     % {"key": ticket.key, "original": original.key})
    return redirect("web:ticket", key=ticket.key)
