"""The timeline summary a review starts from, generated from the ticket: when the problem
happened, was reported, first answered, fixed and closed, how long each took, and the
moments between (the emergency, the assignments, plans and approvals, the steps executed,
escalations, status updates, the verification), one line each, in the writer's language and
the desk's time zone. The writer edits it freely; it can be generated again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.tickets import workflow
from opsdesk.tickets.models import Ticket, TimelineEvent

Kind = TimelineEvent.Kind
# Actions the worker repeats (reminders, requests): noise in a summary.
LEFT_OUT = frozenset({"remind_verification", "request_progress"})
TRANSITIONS = frozenset({Kind.TRANSITION, Kind.PLAN, Kind.APPROVAL, Kind.REJECTION,
                         Kind.ESCALATION, Kind.VERIFICATION})
LONGEST_LINE = 200


def generate(ticket: Ticket) -> str:
    """The summary of ``ticket`` as it stands now."""
    events = list(ticket.timeline.select_related("actor").order_by("at", "id"))
    lines = [_line(ticket.occurred_at, _("The problem occurred"))] if ticket.occurred_at else []
    for event in events:
        text = _describe(event, event.data if isinstance(event.data, dict) else {})
        if text:
            lines.append(_line(event.at, text))
    return "\n".join([*lines, "", *_durations(ticket, events)]).strip()


def _line(at: datetime, text: str) -> str:
    text = " ".join(text.split())
    if len(text) > LONGEST_LINE:
        text = text[:LONGEST_LINE - 1] + "…"
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M} {text}"


def _who(event: TimelineEvent, data: dict[str, Any]) -> str:
    return str(event.actor) if event.actor else str(data.get("by_name") or "opsdesk")


def _describe(event: TimelineEvent, data: dict[str, Any]) -> str:
    who = _who(event, data)
    if event.kind == Kind.CREATED:
        return _("Reported (%(channel)s), priority %(priority)s") % {
            "channel": data.get("channel", "—"), "priority": data.get("priority", "—")}
    if event.kind == Kind.EMERGENCY:
        return _("Emergency declared by %(who)s: %(reason)s") % {
            "who": who, "reason": data.get("reason", "")}
    if event.kind == Kind.STATUS_UPDATE:
        return _("Status update by %(who)s: %(message)s") % {
            "who": who, "message": data.get("message", "")}
    if event.kind == Kind.WORK_LOG:
        return _("%(who)s executed: %(command)s") % {
            "who": who, "command": str(data.get("command", "")).splitlines()[0]
            if data.get("command") else ""}
    if event.kind in TRANSITIONS and data.get("action") not in LEFT_OUT:
        transition = workflow.get(str(data.get("action", "")))
        label = str(transition.label) if transition else str(data.get("action", ""))
        text = _("%(action)s by %(who)s") % {"action": label, "who": who}
        assignee = (data.get("changed") or {}).get("assignee", {}).get("to")
        if isinstance(assignee, dict) and assignee.get("name"):
            text += " → " + str(assignee["name"])
        if data.get("reason"):
            text += _(": %(reason)s") % {"reason": data["reason"]}
        return text
    return ""


def _first(events: list[TimelineEvent], *actions: str) -> datetime | None:
    return next((e.at for e in events if isinstance(e.data, dict)
                 and e.data.get("action") in actions), None)


def _durations(ticket: Ticket, events: list[TimelineEvent]) -> list[str]:
    start = ticket.occurred_at or ticket.submitted_at
    answered = _first(events, "acknowledge")
    fixed = _first(events, "resolve")
    lines = []
    for label, since, until in (
        (_("Time to first response"), ticket.submitted_at, answered),
        (_("Time to fix"), ticket.submitted_at, fixed),
        (_("Duration (from occurrence to closing)"), start, ticket.closed_at),
    ):
        if since is not None and until is not None and until >= since:
            lines.append(f"{label}: {_span(until - since)}")
    return lines


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h %(minutes)d min") % {
            "days": days, "hours": hours, "minutes": minutes}
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
