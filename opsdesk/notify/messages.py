"""What each notification says: a subject and an opening sentence per kind, then the ticket's
particulars, rendered in the reader's language with times in the reader's time zone.

The texts are gettext strings with named placeholders, so translators see whole sentences.
A placeholder the caller did not supply renders as a dash rather than failing: a notification
with a missing detail is better than none.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Choices
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk.notify import conf
from opsdesk.notify.choices import NotificationKind as K
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket

EMPTY = "—"


class Phrase:
    """A sentence with its own placeholders, said in the language active when the message is
    rendered ("you confirmed the fix", "%(name)s closed it without action")."""

    def __init__(self, text: Promise | str, **values: Any) -> None:
        self.text, self.values = text, values

    def __str__(self) -> str:
        return str(self.text) % {name: str(value) for name, value in self.values.items()}


class Words:
    """A list of lazily translated words, joined when rendered ("description, error message")."""

    def __init__(self, words: list[Any]) -> None:
        self.words = words

    def __str__(self) -> str:
        return gettext(", ").join(str(word) for word in self.words)


@dataclass(frozen=True)
class Minutes:
    """A duration, said in the language active when the message is rendered."""

    count: int

    def __str__(self) -> str:
        hours, minutes = divmod(self.count, 60)
        if not hours:
            return gettext("%(minutes)d min") % {"minutes": minutes}
        if not minutes:
            return gettext("%(hours)d h") % {"hours": hours}
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}


@dataclass(frozen=True)
class Template:
    subject: Promise
    lead: Promise
    # Lines after the opening sentence, each shown when the context holds its name (a line
    # named "" always): the result of a fix, how to answer, what happens next.
    lines: tuple[tuple[str, Promise], ...] = ()


# The one-click answers to a fix, as a message holds them until it is sent (notify/links.py).
CONFIRM_MARK = "⟦confirm⟧"
NOT_FIXED_MARK = "⟦not-fixed⟧"
RESULT_LINES = (
    ("cause", _("Cause: %(cause)s")),
    ("solution", _("Solution: %(solution)s")),
    ("time_taken", _("Time taken: %(time_taken)s")),
    ("prevention", _("Prevention: %(prevention)s")),
    ("evidence", _("Evidence: %(evidence)s")),
)
VERIFY_LINES = (
    ("links_expire", _("Fixed? Confirm it in one click: %(confirm_link)s")),
    ("links_expire", _("Still not fixed? Tell us what is wrong: %(not_fixed_link)s")),
    ("links_expire", _("The links work once, without a password, until %(links_expire)s. You "
                       "can also answer on the ticket's page.")),
)
WATCHING = ("", _("You follow this ticket; you can stop on its page."))


TEMPLATES: dict[str, Template] = {
    K.SLA_WARNING: Template(
        _("[%(key)s] SLA at risk: %(title)s"),
        _("The %(clock)s deadline of %(key)s is near: it falls due at %(due_at)s."),
    ),
    K.SLA_BREACH: Template(
        _("[%(key)s] SLA breached: %(title)s"),
        _("%(key)s has missed its %(clock)s deadline of %(due_at)s."),
    ),
    K.ESCALATED: Template(
        _("[%(key)s] Escalated: %(title)s"),
        _("%(key)s has been escalated. Reason: %(reason)s"),
    ),
    K.ASSIGNED: Template(
        _("[%(key)s] Assigned to %(assignee)s: %(title)s"),
        _("%(key)s has been assigned to %(assignee)s."),
    ),
    K.TRIAGE_NEEDED: Template(
        _("[%(key)s] New ticket to triage: %(title)s"),
        _("%(key)s is new and no routing rule assigned it: please set its priority and assignee."),
    ),
    K.APPROVAL_REQUESTED: Template(
        _("[%(key)s] Approval requested: %(title)s"),
        _("The plan for %(key)s needs the department head's approval before it is carried out."),
    ),
    K.EMERGENCY: Template(
        _("[%(key)s] EMERGENCY: %(title)s"),
        _("An emergency has been declared on %(key)s. %(reason)s"),
    ),
    K.STATUS_UPDATE: Template(
        _("[%(key)s] Status update: %(title)s"),
        _("Update on %(key)s: %(message)s"),
    ),
    K.INSPECTION_OVERDUE: Template(
        _("Inspection overdue: %(plan)s"),
        _("The inspection %(plan)s was due at %(due_at)s and has not been run."),
    ),
    K.CALENDAR_SCHEDULE: Template(
        _("Enter the official holidays of %(year)s in the business calendars"),
        _("The calendar library does not know the official schedule of %(year)s yet (public "
          "holidays and make-up working days, 调休). Until it does, SLA deadlines in "
          "%(year)s count the public holidays below, computed by rule, and no make-up "
          "working days. Check them against the State Council's notice, and enter each "
          "make-up working day and any difference as an override of every business "
          "calendar, before they are needed:\n\n%(holidays)s"),
    ),
    # The submitter's side of each stage (notify/conversation.py decides who hears what).
    K.RECEIVED: Template(
        _("[%(key)s] Received: %(title)s"),
        _("We have received your report and registered it as %(key)s."),
        (("triage", _("The duty engineer will assign it to an engineer shortly.")),
         ("due_at", _("First response due by: %(due_at)s")),
         ("", _("To add details, reply to this mail or write on the ticket's page.")))),
    K.HANDLER_ASSIGNED: Template(
        _("[%(key)s] %(assignee)s is handling your report: %(title)s"),
        _("%(assignee)s is now handling %(key)s."),
        (("due_at", _("First response due by: %(due_at)s")),)),
    K.SENT_BACK: Template(
        _("[%(key)s] Please complete your report: %(title)s"),
        _("Your report %(key)s lacks details the engineers need before they can take it on."),
        (("missing", _("Missing: %(missing)s")),
         ("reason", _("%(actor)s notes: %(reason)s")),
         ("", _("Complete it on the ticket's page, or reply to this mail with what is missing: "
                "the report then goes back to the duty engineer.")))),
    K.QUESTION: Template(
        _("[%(key)s] A question about your report: %(title)s"),
        _("%(actor)s asks about %(key)s:\n\n%(question)s"),
        (("", _("Reply to this mail, or answer on the ticket's page. Until you answer, the "
                "ticket waits for you and its resolution time does not count.")),)),
    K.REPLY: Template(
        _("[%(key)s] New reply: %(title)s"),
        _("%(actor)s wrote on %(key)s:\n\n%(body)s"),
        (("", _("Reply to this mail or on the ticket's page.")),)),
    K.PROGRESS: Template(
        _("[%(key)s] Progress: %(title)s"),
        _("Progress on %(key)s from %(actor)s: %(next_step)s"),
        (("expected_at", _("Expected completion: %(expected_at)s")),)),
    K.VERIFY: Template(
        _("[%(key)s] Fixed, please verify: %(title)s"),
        _("%(key)s has been fixed. Please check that the problem is gone."),
        (*RESULT_LINES, *VERIFY_LINES)),
    K.VERIFY_REMINDER: Template(
        _("[%(key)s] Reminder, please verify the fix: %(title)s"),
        _("The fix for %(key)s has been waiting for your verification since %(resolved_at)s."),
        (("closes_at", _("Without an answer the ticket will be closed on %(closes_at)s.")),
         *RESULT_LINES, *VERIFY_LINES)),
    K.CLOSED: Template(
        _("[%(key)s] Closed: %(title)s"),
        _("%(key)s is closed: %(how)s"),
        (("reason", _("Reason: %(reason)s")),
         ("reopen_until", _("Should the problem come back before %(reopen_until)s, reopen the "
                            "ticket on its page; after that, report it again.")),
         ("report_again", _("Should the problem come back, report it again by mail naming "
                            "%(key)s.")))),
    K.REOPENED: Template(
        _("[%(key)s] Reopened: %(title)s"),
        _("%(key)s was reopened by %(actor)s. Reason: %(reason)s"),
        (("due_at", _("Resolution due: %(due_at)s")),)),
    # What participants hear of decisions on their tickets.
    K.PLAN_APPROVED: Template(
        _("[%(key)s] Plan approved: %(title)s"),
        _("%(actor)s approved plan #%(plan)s for %(key)s: it may be carried out now."),
        (("comment", _("Comment: %(comment)s")),)),
    K.PLAN_REJECTED: Template(
        _("[%(key)s] Plan rejected: %(title)s"),
        _("%(actor)s rejected plan #%(plan)s for %(key)s. Reason: %(reason)s"),
        (("", _("Write a new plan on the ticket's page.")),)),
    K.PLAN_EXPLAINED: Template(
        _("[%(key)s] Plan going ahead on a stated reason: %(title)s"),
        _("Plan #%(plan)s for %(key)s by %(actor)s does not obviously fit the problem's type "
          "and goes ahead without approval, for this reason: %(reason)s"),
        (("", _("Read the plan on the ticket's page.")),)),
    K.SUBMITTER_REPLY: Template(
        _("[%(key)s] %(actor)s answered: %(title)s"),
        _("%(actor)s wrote on %(key)s:\n\n%(body)s"),
        (("resumed", _("The ticket no longer waits for the submitter: it is %(status)s again "
                       "and its resolution time counts.")),)),
    K.NOT_FIXED: Template(
        _("[%(key)s] Not fixed, says %(actor)s: %(title)s"),
        _("%(actor)s says the fix for %(key)s did not solve the problem: %(reason)s"),
        (("escalated", _("Escalated to the department head: %(escalated)s")),
         ("", _("Write a new plan with the expected completion time on the ticket's page.")))),
    K.TICKET_CLOSED: Template(
        _("[%(key)s] Closed: %(title)s"),
        _("%(key)s is closed: %(how)s"),
        (("reason", _("Reason: %(reason)s")),)),
    K.PROGRESS_REQUESTED: Template(
        _("[%(key)s] Progress update needed: %(title)s"),
        _("%(key)s has passed its deadline of %(due_at)s. Record the next step and the "
          "expected completion time on the ticket's page: the submitter is told."),
    ),
    K.REVIEW_NEEDED: Template(
        _("[%(key)s] Post-incident review needed: %(title)s"),
        _("%(key)s was closed %(days)s days ago and would be archived now, but it needs its "
          "post-incident review first (it was urgent or an emergency). Write and complete it "
          "on the ticket's page."),
    ),
    K.ACTION_ITEM: Template(
        _("[%(key)s] Action item for you: %(action)s"),
        _("%(actor)s gave you an action item in the post-incident review of %(key)s: "
          "%(action)s. Due: %(due_at)s."),
    ),
    K.ACTION_ITEM_DUE: Template(
        _("[%(key)s] Action item due soon: %(action)s"),
        _("Your action item from the post-incident review of %(key)s is due at %(due_at)s: "
          "%(action)s. Mark it done under My action items (/action-items/) when it is."),
    ),
    K.ACTION_ITEM_OVERDUE: Template(
        _("[%(key)s] Action item overdue: %(action)s"),
        _("The action item from the post-incident review of %(key)s was due at %(due_at)s "
          "and is not done: %(action)s (owner: %(owner)s)."),
    ),
    K.COLLABORATOR_ADDED: Template(
        _("[%(key)s] You were added to: %(title)s"),
        _("%(actor)s added you to %(key)s as a collaborator."),
        (("summary", _("The problem: %(summary)s")),
         ("plan_summary", _("Plan #%(plan)s: %(plan_summary)s")))),
    K.WATCH_COMMENT: Template(
        _("[%(key)s] Comment: %(title)s"),
        _("%(actor)s commented on %(key)s:\n\n%(body)s"),
        (WATCHING,)),
    K.WATCH_STATUS: Template(
        _("[%(key)s] %(status)s: %(title)s"),
        _("%(actor)s: %(action)s on %(key)s. It is now %(status)s."),
        (("next_step", _("Next step: %(next_step)s")),
         ("expected_at", _("Expected completion: %(expected_at)s")),
         WATCHING)),
    K.WATCH_DECISION: Template(
        _("[%(key)s] %(action)s: %(title)s"),
        _("%(actor)s: %(action)s on %(key)s. It is now %(status)s."),
        (("reason", _("Reason: %(reason)s")), WATCHING)),
    K.WATCH_LINK: Template(
        _("[%(key)s] Linked: %(title)s"),
        _("%(actor)s linked %(key)s: %(link_text)s"),
        (WATCHING,)),
}
# An SLA threshold, when the caller says which one ("threshold"): the deadline itself
# ("due_at") and how far along it the clock is, from "used" (the warning's share of the time,
# "75%") and "target" (the whole time allowed, "15 minutes"; past +100% it is overdue by that).
SLA_LEADS = {
    "warning": _("The %(clock)s deadline of %(key)s is near: %(used)s of the time used, "
                 "due %(due_at)s."),
    "breach": _("%(key)s has missed its %(clock)s deadline: all of the time used, "
                "due %(due_at)s."),
    "severe": _("%(key)s is overdue by %(target)s, twice its time: its %(clock)s deadline "
                "was %(due_at)s."),
}
CLOCKS = {"response": _("response"), "resolution": _("resolution")}
DETAILS = (
    ("key", _("Ticket: %(key)s %(title)s")),
    ("key", _("Priority: %(priority)s")),
    ("key", _("Status: %(status)s")),
    ("key", _("Assignee: %(assignee)s")),
    ("deadline", _("Deadline: %(deadline)s")),
    ("declared_by", _("Declared by: %(declared_by)s")),
    ("next_update_at", _("Next update by: %(next_update_at)s")),
    ("link", _("Open: %(link)s")),
)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    language: str


class _Values(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return EMPTY


def reader_language(language: str | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def reader_zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def format_moment(moment: datetime, zone: tzinfo) -> str:
    """A moment as the reader's wall clock, naming the zone so nobody converts in their head."""
    return f"{timezone.localtime(moment, zone):%Y-%m-%d %H:%M} {zone}"


def ticket_link(ticket: Ticket) -> str:
    return f"{conf.base_url()}/tickets/{ticket.key}/"


def _text(value: Any, zone: tzinfo) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        return format_moment(value, zone)
    if isinstance(value, enum.Enum) and hasattr(value, "label"):
        return str(value.label)
    return str(value)  # also evaluates lazy translations in the active language


def _label(choices: type[Choices], value: object) -> str:
    """A choice's label, as ``get_FOO_display`` gives it without hashing every label (each
    a translation) to build its lookup table on every call."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _values(ticket: Ticket | None, context: dict[str, Any], zone: tzinfo) -> _Values:
    values = _Values({name: _text(value, zone) for name, value in context.items()})
    if clock := context.get("clock"):
        values["clock"] = str(CLOCKS.get(str(clock), clock))
    if ticket is not None:
        values.update(
            key=ticket.key, title=ticket.title, link=ticket_link(ticket),
            priority=_label(Priority, ticket.priority),
            status=_label(Status, ticket.status),
            assignee=str(ticket.assignee) if ticket.assignee else str(_("nobody yet")),
        )
        if ticket.deadline_at:
            values["deadline"] = format_moment(ticket.deadline_at, zone)
    return values


def render(
    *, kind: str, ticket: Ticket | None, context: dict[str, Any], language: str | None,
    time_zone: str | None,
) -> Message:
    """The notification ``kind`` about ``ticket`` as one reader should read it."""
    language = reader_language(language)
    zone = reader_zone(time_zone)
    template = TEMPLATES[kind]
    with translation.override(language):
        values = _values(ticket, context, zone)
        lead = template.lead
        if kind in (K.SLA_WARNING, K.SLA_BREACH) and context.get("threshold") in SLA_LEADS:
            lead = SLA_LEADS[context["threshold"]]
        lines = [str(lead) % values]
        extra = [str(line) % values for needs, line in template.lines
                 if not needs or context.get(needs) not in (None, "", False)]
        if extra:
            lines += ["", *extra]
        details = [str(line) % values for needs, line in DETAILS if needs in values]
        if details:
            lines += ["", *details]
        # A header cannot hold a line break; a title pasted with one must not break the mail.
        subject = " ".join((str(template.subject) % values).split())
        return Message(subject=subject[:300], body="\n".join(lines), language=language)
