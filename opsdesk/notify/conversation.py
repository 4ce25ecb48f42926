"""Who hears what: the one place that maps every change of a ticket to the people it concerns
and what each is told.

The submitter hears each stage of her report (receipt, who handles it, a question, progress,
the fix to verify with one-click answers, closure, reopening), by mail even without an
account; the assignee hears the decisions others take on the ticket (the head's approval or
rejection, the submitter's answer, her "not fixed"); the head hears what needs a head; people
pulled in hear why; and anyone following the ticket hears the topics they chose. A person
hears of one change once, in the message of their part in it (a watcher who is also the
assignee gets the assignee's), and nobody is told what they did themselves, except the
submitter's confirmations (her receipt, her ticket closed or reopened).

Registered as hooks (notify/apps.py), after the routing and SLA hooks: by then the ticket is
routed and its clocks say what is due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import User
from opsdesk.accounts.roles import Role
from opsdesk.notify import services as notify
from opsdesk.notify import verification
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.notify.choices import WatchTopic
from opsdesk.notify.messages import CONFIRM_MARK, NOT_FIXED_MARK, Minutes, Phrase, Words
from opsdesk.notify.models import VerificationLink, Watch
from opsdesk.notify.services import Address, Recipient, identity
from opsdesk.routing.selectors import duty_engineer_at
from opsdesk.sla.selectors import is_business_moment, sla_summary
from opsdesk.tickets import policy, workflow
from opsdesk.tickets.choices import LinkKind, PlanFit, Status
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Comment, Ticket, TimelineEvent

# The head's and the submitter's decisions: what a watcher of "decisions" hears about.
DECISIONS = frozenset({"approve", "reject_plan", "confirm", "reject_fix"})
ESCALATION_REASONS = {
    "plan_needed_approval": _("the failed plan needed the head's approval"),
    "deadline_passed": _("the deadline has passed"),
}
SUMMARY_LENGTH = 500


@dataclass
class Telling:
    """One message for some people about a change."""

    kind: K
    people: list[Recipient | None]
    context: dict[str, Any] = field(default_factory=dict)
    verification: VerificationLink | None = None
    # The submitter's confirmations reach her even when she acted herself.
    to_actor: bool = False


def heads() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.HEAD))


def submitter_of(ticket: Ticket) -> Recipient | None:
    """Who submitted ``ticket``: her account, else the mail address of an external submitter
    (the first address in the contact given), else nobody to tell (an alert, a phone number)."""
    if ticket.submitter_id is not None:
        submitter = ticket.submitter
        return submitter if submitter is not None and submitter.is_active else None
    for word in ticket.submitter_contact.replace(",", " ").replace(";", " ").split():
        try:
            validate_email(word)
        except ValidationError:
            continue
        return Address(email=word, name=ticket.submitter_name or word)
    return None


def change_key(action: str, ticket: Ticket) -> str:
    """Names the notifications of one workflow change (once per ticket version)."""
    return f"{action}:{ticket.pk}:{ticket.version}"


def actor_name(change: TicketChange) -> str:
    """Who made ``change``: a person's name, the external submitter's (her answer by a link),
    else opsdesk."""
    if change.actor is not None:
        return str(change.actor)
    return str(change.details.get("by_name") or "opsdesk")


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


# Receipts ------------------------------------------------------------------------------------

def on_tickets_created(changes: Sequence[TicketChange]) -> None:
    """Hook: each submitter hears that her report was received, once it is dispatched (routed,
    its clocks started): its key, priority, who handles it and when a first response is due."""
    told = [(change, submitter_of(change.ticket)) for change in changes
            if change.ticket.submitter_id is not None or "@" in change.ticket.submitter_contact]
    told = [(change, person) for change, person in told if person is not None]
    if not told:
        return
    prefetch_related_objects([change.ticket for change, _person in told], "sla_clock")
    now = timezone.now()
    notify.tell(kind=K.RECEIVED, notifications=[
        notify.Notification(change.ticket, [person], f"received:{change.ticket.pk}", {
            "due_at": _response_due(change.ticket, now),
            "triage": change.ticket.assignee_id is None,
        })
        for change, person in told
    ])


def _response_due(ticket: Ticket, now: datetime) -> datetime | None:
    due = sla_summary(getattr(ticket, "sla_clock", None), now)["response_due_at"]
    return due if isinstance(due, datetime) else None


# Changes -------------------------------------------------------------------------------------

def on_ticket_change(change: TicketChange) -> None:
    """Hook: tell the people ``change`` concerns, each once."""
    teller = TELLERS.get(change.action)
    tellings = teller(change) if teller is not None else []
    told = _send(change, tellings)
    _tell_watchers(change, told)


def _send(change: TicketChange, tellings: Iterable[Telling]) -> set[tuple[str, object]]:
    """Send ``tellings`` in order, each person at most once; who was told."""
    told: set[tuple[str, object]] = set()
    actor = change.actor
    for telling in tellings:
        people = []
        for person in telling.people:
            if person is None or identity(person) in told:
                continue
            if (not telling.to_actor and isinstance(person, User) and actor is not None
                    and person.pk == actor.pk):
                continue  # nobody is told about what they did themselves
            told.add(identity(person))
            people.append(person)
        if people:
            notify.notify_each(kind=telling.kind, by=actor, notifications=[notify.Notification(
                change.ticket, people, _key(change), {"actor": actor_name(change),
                                                      **telling.context},
                verification=telling.verification)])
    if actor is not None:
        told.add(identity(actor))
    return told


def _key(change: TicketChange) -> str:
    """Names the notifications of one change. A comment, a link and a change of collaborators
    leave the ticket's version as it was: their own record names them."""
    if change.action == "comment":
        return f"comment:{change.ticket.pk}:{change.details.get('comment')}"
    if change.action in ("link", "unlink"):
        link = change.details.get("link") or {}
        return f"{change.action}:{change.ticket.pk}:{link.get('id')}:{change.ticket.version}"
    if change.action == "collaborators":
        return f"collaborators:{change.ticket.pk}:event:{change.details.get('event')}"
    return change_key(change.action, change.ticket)


def _assigned(change: TicketChange) -> list[Telling]:
    if "assignee" not in change.changed:
        return []
    ticket = change.ticket
    return [
        Telling(K.ASSIGNED, [ticket.assignee]),
        Telling(K.HANDLER_ASSIGNED, [submitter_of(ticket)],
                {"due_at": _response_due(ticket, timezone.now())}),
    ]


def _plan_proposed(change: TicketChange) -> list[Telling]:
    if change.target == Status.AWAITING_APPROVAL:
        return [Telling(K.APPROVAL_REQUESTED, list(heads()))]
    plan = change.ticket.current_plan
    if plan is not None and plan.fit == PlanFit.EXPLAINED:
        # The table let the assignee's reason stand in for approval: the head hears it.
        return [Telling(K.PLAN_EXPLAINED, list(heads()),
                        {"plan": plan.number, "reason": plan.fit_reason})]
    return []


def _escalated(change: TicketChange) -> list[Telling]:
    people: list[Recipient | None] = list(heads())
    if not is_business_moment(change.at):
        people.append(duty_engineer_at(change.at))
    return [Telling(K.ESCALATED, people, {"reason": change.details.get("reason", "")})]


def _plan_number(ticket: Ticket) -> int | None:
    return ticket.current_plan.number if ticket.current_plan else None


def _approved(change: TicketChange) -> list[Telling]:
    return [Telling(K.PLAN_APPROVED, [change.ticket.assignee],
                    {"plan": _plan_number(change.ticket),
                     "comment": change.details.get("comment", "")})]


def _rejected(change: TicketChange) -> list[Telling]:
    return [Telling(K.PLAN_REJECTED, [change.ticket.assignee],
                    {"plan": _plan_number(change.ticket),
                     "reason": change.details.get("reason", "")})]


def _sent_back(change: TicketChange) -> list[Telling]:
    labels = {name: fld.label for name, fld in workflow.EDITABLE_FIELDS.items()}
    missing = [labels.get(name, name) for name in change.details.get("missing") or []]
    return [Telling(K.SENT_BACK, [submitter_of(change.ticket)],
                    {"missing": Words(missing) if missing else "",
                     "reason": change.details.get("reason", "")})]


def _question(change: TicketChange) -> list[Telling]:
    return [Telling(K.QUESTION, [submitter_of(change.ticket)],
                    {"question": change.details.get("comment", "")})]


def _from_submitter(change: TicketChange) -> bool:
    ticket, actor = change.ticket, change.actor
    if actor is None:
        return ticket.submitter_id is None  # an external submitter's mail
    return actor.pk == ticket.submitter_id


def _answer_readers(ticket: Ticket) -> list[Recipient | None]:
    """Who waits for the submitter's answer: the assignee, else whoever sent the report back."""
    if ticket.assignee is not None:
        return [ticket.assignee]
    asked = (ticket.timeline.filter(data__action__in=("send_back", "request_info"))
             .select_related("actor").order_by("-id").first())
    return [asked.actor] if asked is not None else []


def _resumed(change: TicketChange) -> list[Telling]:
    """The submitter answered through the action itself, or by completing her report; an
    answer written as a comment is told by the comment (it resumes the ticket first)."""
    if not _from_submitter(change):
        return []
    before = _event_before_resume(change)
    if before is not None and before.actor_id != (change.actor.pk if change.actor else None):
        before = None  # someone else's: not how she answered
    if before is not None and before.kind == TimelineEvent.Kind.COMMENT and not before.internal:
        return []
    body: str | Phrase | Promise = change.details.get("comment") or ""
    if not body and before is not None and before.kind == TimelineEvent.Kind.FIELDS_CHANGED:
        labels = {name: fld.label for name, fld in workflow.EDITABLE_FIELDS.items()}
        body = Phrase(_("(completed the report: %(fields)s)"), fields=Words(
            [labels.get(name, name) for name in before.data.get("changed") or {}]))
    elif not body:
        body = _("(no message)")
    return [Telling(K.SUBMITTER_REPLY, _answer_readers(change.ticket),
                    {"body": body, "resumed": True})]


def _event_before_resume(change: TicketChange) -> TimelineEvent | None:
    """What the submitter did just before the ticket resumed: a comment or an edit resumes it
    right after it is recorded (tickets/services.py)."""
    resume = (change.ticket.timeline.filter(kind=TimelineEvent.Kind.TRANSITION,
                                            data__action="resume").order_by("-id").first())
    if resume is None:
        return None
    return change.ticket.timeline.filter(id__lt=resume.pk).order_by("-id").first()


def _commented(change: TicketChange) -> list[Telling]:
    comment = _comment_of(change)
    if comment is None or comment.internal:
        return []
    ticket = change.ticket
    if _from_submitter(change):
        event = ticket.timeline.filter(kind=TimelineEvent.Kind.COMMENT,
                                       data__comment=comment.pk).first()
        resumed = event is not None and ticket.timeline.filter(
            id__gt=event.pk, kind=TimelineEvent.Kind.TRANSITION, data__action="resume").exists()
        context = {"body": comment.body, "resumed": resumed}
        if change.actor is None:
            context["actor"] = comment.author_name
        return [Telling(K.SUBMITTER_REPLY, _answer_readers(ticket), context)]
    return [Telling(K.REPLY, [submitter_of(ticket)], {"body": comment.body})]


def _comment_of(change: TicketChange) -> Comment | None:
    """The comment a ``comment`` change made (its hook names it)."""
    comment_id = change.details.get("comment")
    return change.ticket.comments.filter(pk=comment_id).first() if comment_id else None


def _progress(change: TicketChange) -> list[Telling]:
    ticket = change.ticket
    return [Telling(K.PROGRESS, [submitter_of(ticket)],
                    {"next_step": ticket.next_step, "expected_at": ticket.expected_completion_at})]


def _progress_requested(change: TicketChange) -> list[Telling]:
    return [Telling(K.PROGRESS_REQUESTED, [change.ticket.assignee],
                    {"due_at": _moment(change.details.get("due"))})]


def _result(ticket: Ticket) -> dict[str, Any]:
    return {
        "cause": ticket.cause, "solution": ticket.solution, "prevention": ticket.prevention,
        "time_taken": Minutes(ticket.time_taken_minutes) if ticket.time_taken_minutes else "",
        "evidence": ticket.verification_evidence,
    }


def _links(link: VerificationLink) -> dict[str, Any]:
    return {"confirm_link": CONFIRM_MARK, "not_fixed_link": NOT_FIXED_MARK,
            "links_expire": verification.expires_at(link)}


def _verify(change: TicketChange) -> list[Telling]:
    ticket = change.ticket
    submitter = submitter_of(ticket)
    if submitter is None:
        return []
    link = verification.invite(
        ticket=ticket, recipient=submitter if isinstance(submitter, User) else None,
        address=submitter.email if isinstance(submitter, Address) else "")
    return [Telling(K.VERIFY, [submitter], {**_result(ticket), **_links(link)}, link)]


def _remind(change: TicketChange) -> list[Telling]:
    ticket = change.ticket
    link = verification.open_link(ticket)
    context = {**_result(ticket), "resolved_at": ticket.verification_requested_at,
               "closes_at": _moment(change.details.get("closes_at"))}
    if link is not None:
        context.update(_links(link))
    return [Telling(K.VERIFY_REMINDER, [submitter_of(ticket)], context, link)]


def _closed(change: TicketChange) -> list[Telling]:
    ticket, name = change.ticket, actor_name(change)
    reason = change.details.get("reason", "")
    duplicate_of = change.details.get("duplicate_of")
    hers: Phrase | Promise
    theirs: Phrase | Promise
    if change.action == "confirm":
        hers, theirs = _("you confirmed the fix."), Phrase(_("%(name)s confirmed the fix."),
                                                           name=name)
    elif change.action == "auto_close":
        days = change.details.get("working_days") or settings.OPSDESK_VERIFICATION_DAYS
        hers = theirs = Phrase(_("the fix waited %(days)s working days for verification "
                                 "without an answer, so opsdesk closed it."), days=days)
    elif duplicate_of:
        hers = theirs = Phrase(_("it duplicates %(original)s, where the work goes on."),
                               original=duplicate_of)
    elif change.action == "dismiss":
        hers = theirs = Phrase(_("%(name)s closed it without action."), name=name)
    else:
        hers = theirs = Phrase(_("%(name)s closed it with evidence that the problem is "
                                 "solved."), name=name)
    submitter = submitter_of(ticket)
    context: dict[str, Any] = {"how": hers, "reason": reason}
    if isinstance(submitter, User) and ticket.closed_at is not None:
        context["reopen_until"] = ticket.closed_at + timedelta(days=settings.OPSDESK_REOPEN_DAYS)
    elif isinstance(submitter, Address):
        context["report_again"] = True
    return [
        Telling(K.CLOSED, [submitter], context, to_actor=True),
        Telling(K.TICKET_CLOSED, [ticket.assignee], {"how": theirs, "reason": reason}),
    ]


def _not_fixed(change: TicketChange) -> list[Telling]:
    ticket = change.ticket
    reasons = [ESCALATION_REASONS.get(r, r) for r in change.details.get("escalated") or []]
    context: dict[str, Any] = {"reason": change.details.get("reason", ""),
                               "escalated": Words(reasons) if reasons else ""}
    people: list[Recipient | None] = [ticket.assignee, *(heads() if reasons else [])]
    return [Telling(K.NOT_FIXED, people, context)]


def _reopened(change: TicketChange) -> list[Telling]:
    ticket = change.ticket
    staff: list[Recipient | None] = [ticket.assignee]
    if change.target == Status.NEW:  # nobody had it: back to the duty engineer's triage
        staff.append(duty_engineer_at(change.at))
    context = {"reason": change.details.get("reason", "")}
    return [Telling(K.REOPENED, staff, context),
            Telling(K.REOPENED, [submitter_of(ticket)], context, to_actor=True)]


def _collaborators(change: TicketChange) -> list[Telling]:
    added = (change.changed.get("collaborators") or {}).get("added") or []
    people = list(User.objects.filter(pk__in=[p["id"] for p in added if isinstance(p, dict)],
                                      is_active=True))
    ticket, plan = change.ticket, change.ticket.current_plan
    summary = ticket.description.strip()
    if len(summary) > SUMMARY_LENGTH:
        summary = summary[:SUMMARY_LENGTH].rstrip() + "…"
    return [Telling(K.COLLABORATOR_ADDED, list(people), {
        "summary": summary,
        "plan": plan.number if plan else None,
        "plan_summary": plan.summary if plan else "",
    })]


TELLERS: dict[str, Callable[[TicketChange], list[Telling]]] = {
    "triage": _assigned,
    "reassign": _assigned,
    "send_back": _sent_back,
    "propose_plan": _plan_proposed,
    "approve": _approved,
    "reject_plan": _rejected,
    "escalate": _escalated,
    "progress_update": _progress,
    "request_progress": _progress_requested,
    "request_info": _question,
    "resume": _resumed,
    "comment": _commented,
    "resolve": _verify,
    "remind_verification": _remind,
    "confirm": _closed,
    "close_with_evidence": _closed,
    "auto_close": _closed,
    "dismiss": _closed,
    "reject_fix": _not_fixed,
    "reopen": _reopened,
    "collaborators": _collaborators,
}


# Watchers ------------------------------------------------------------------------------------

def _watch_topic(change: TicketChange) -> tuple[WatchTopic, ...]:
    """The topics ``change`` belongs to, the most particular first."""
    if change.action == "comment":
        return (WatchTopic.COMMENTS,)
    if change.action in ("link", "unlink"):
        return (WatchTopic.LINKS,)
    topics: list[WatchTopic] = []
    if change.action in DECISIONS:
        topics.append(WatchTopic.DECISIONS)
    if change.source != change.target or change.action == "progress_update":
        topics.append(WatchTopic.STATUS)
    return tuple(topics)


KIND_BY_TOPIC = {
    WatchTopic.COMMENTS: K.WATCH_COMMENT,
    WatchTopic.STATUS: K.WATCH_STATUS,
    WatchTopic.DECISIONS: K.WATCH_DECISION,
    WatchTopic.LINKS: K.WATCH_LINK,
}


def _tell_watchers(change: TicketChange, told: set[tuple[str, object]]) -> None:
    topics = _watch_topic(change)
    if not topics:
        return
    ticket = change.ticket
    comment = _comment_of(change) if change.action == "comment" else None
    if change.action == "comment" and comment is None:
        return
    by_kind: dict[K, list[User]] = defaultdict(list)
    watches = Watch.objects.filter(ticket=ticket).select_related("user").order_by("pk")
    for watch in watches:
        user = watch.user
        if identity(user) in told or not user.is_active or not policy.can_view(user, ticket):
            continue
        if comment is not None and comment.internal and not user.is_department_staff:
            continue
        topic = next((t for t in topics if watch.wants(t)), None)
        if topic is not None:
            by_kind[KIND_BY_TOPIC[topic]].append(user)
    if by_kind:
        context = _watch_context(change, comment)
        _send(change, [Telling(kind, list(people), context)
                       for kind, people in by_kind.items()])


def _watch_context(change: TicketChange, comment: Comment | None) -> dict[str, Any]:
    transition = workflow.get(change.action)
    context: dict[str, Any] = {
        "action": transition.label if transition is not None else change.action,
        "reason": change.details.get("reason", ""),
    }
    if comment is not None:
        context["body"] = comment.body
        if comment.author_id is None:
            context["actor"] = comment.author_name
    if change.action == "progress_update":
        context.update(next_step=change.ticket.next_step,
                       expected_at=change.ticket.expected_completion_at)
    link = change.details.get("link")
    if isinstance(link, dict) and link.get("kind") in LinkKind.values:
        kind = LinkKind(link["kind"])
        words = kind.label if link.get("direction") == "outgoing" else kind.inverse_label
        text = Phrase(_("%(link)s %(other)s"), link=words, other=link.get("other", ""))
        context["link_text"] = (Phrase(_("link removed: %(link)s"), link=text)
                                if change.action == "unlink" else text)
    return context
