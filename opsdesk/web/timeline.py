"""A ticket's timeline events as people read them: who, when, what, in the reader's language.

Only presentation: the events themselves are written by the services and never changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from opsdesk import field_labels
from opsdesk.notify.choices import NotificationKind
from opsdesk.sla.targets import Target
from opsdesk.tickets import fields as f
from opsdesk.tickets import workflow
from opsdesk.tickets.choices import LinkKind, PlanKind, Priority, Status, StepKind, StepOutcome
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.storage import file_size

log = logging.getLogger(__name__)
Kind = TimelineEvent.Kind
# Every field an action or an edit stores on the ticket: how a change of it is labelled.
_TICKET_FIELDS = {
    *workflow.EDITABLE_FIELDS.values(),
    *(fld for t in workflow.TRANSITIONS for fld in t.fields if fld.target is f.Target.TICKET),
}
_FIELD_CHOICES = {fld.name: fld.choices for fld in _TICKET_FIELDS
                  if fld.choices and fld.name != "priority"}


class Verbatim(str):
    """A fact's label that is a name from elsewhere (an alert's label), shown as it is."""


@dataclass
class Entry:
    event: TimelineEvent
    title: str
    tone: str = ""  # a CSS modifier: comment, note, approval, rejection, alert, sla, step
    text: str = ""  # free text the person wrote, shown as text (never as HTML)
    code: str = ""  # a command or SQL, shown verbatim as code
    output: str = ""
    facts: list[tuple[str, Any]] = field(default_factory=list)


def _status(value: str | None) -> str:
    return str(Status(value).label) if value in Status.values else str(value or "")


# Actions recorded on the timeline that are not the workflow table's: how they are called.
OTHER_ACTIONS = {
    "import": gettext_lazy("Imported"),
}


def _action_label(name: str) -> str:
    transition = workflow.get(name)
    if transition is not None:
        return str(transition.label)
    return str(OTHER_ACTIONS.get(name, name))


def _value(name: str, value: Any) -> Any:
    choices = dict(_FIELD_CHOICES.get(name, ()))
    if isinstance(value, str) and value in choices:
        return choices[value]
    if isinstance(value, dict):
        return value.get("name") or value.get("username") or ""
    if name == "priority" and isinstance(value, str):
        try:
            return Priority.from_code(value).label
        except KeyError:
            return value
    if name == "status":
        return _status(value)
    if isinstance(value, str) and (moment := parse_datetime(value)) is not None:
        return moment  # shown in the reader's time zone by the template
    return "—" if value in (None, "") else value


def _changes(changed: dict[str, Any]) -> list[tuple[str, Any]]:
    labels = {fld.name: str(fld.label) for fld in _TICKET_FIELDS}
    return [
        (labels.get(name) or field_labels.label(name),
         f"{_text(_value(name, c.get('from')))} → "
                                 f"{_text(_value(name, c.get('to')))}")
        for name, c in changed.items() if isinstance(c, dict)
    ]


def _text(value: Any) -> str:
    if hasattr(value, "strftime"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def entry(event: TimelineEvent) -> Entry:
    """One event, described. An event whose data cannot be described (written by an older
    version, or damaged) is shown as such and logged: it never takes the page down with it."""
    data = event.data if isinstance(event.data, dict) else {}
    describe = _DESCRIBERS.get(event.kind, _other)
    try:
        described = describe(event, data)
    except Exception:
        log.exception("timeline event %s (%s) cannot be described", event.pk, event.kind)
        return Entry(event, _("An entry that cannot be shown"))
    # Labels are written as in a sentence ("plan version"); shown as labels, capitalised,
    # except names that come from elsewhere as they are (an alert's label "alertname").
    described.facts = [(label if isinstance(label, Verbatim) else capfirst(str(label)), value)
                       for label, value in described.facts]
    return described


def _created(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    facts = [(_("priority"), _value("priority", data.get("priority")))]
    if data.get("source") == "imported":
        facts.append((_("imported from"), f"{data.get('system', '')} {data.get('key', '')}"))
    return Entry(event, _("Registered"), facts=facts)


# Reasons opsdesk's automation gives for an action, said in the reader's language.
AUTOMATION_REASONS = {
    "alert_resolved_unacknowledged": gettext_lazy(
        "The alert resolved before anyone acknowledged it."),
}


def _said_by_opsdesk(data: dict[str, Any]) -> str:
    """What opsdesk wrote on an action it took itself, from the data it stored."""
    if (reason := AUTOMATION_REASONS.get(data.get("reason_code", ""))) is not None:
        return str(reason)
    if data.get("action") == "auto_close" and "reopen_days" in data:
        days = int(data.get("working_days") or 0)
        return ngettext(
            "Closed by opsdesk: the fix waited %(days)d working day for verification without "
            "an answer. The submitter may reopen it within %(reopen)d days.",
            "Closed by opsdesk: the fix waited %(days)d working days for verification without "
            "an answer. The submitter may reopen it within %(reopen)d days.", days,
        ) % {"days": days, "reopen": int(data["reopen_days"])}
    return ""


def _transition(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    title = _action_label(data.get("action", ""))
    if data.get("from") != data.get("to"):
        title = f"{title}: {_status(data.get('from'))} → {_status(data.get('to'))}"
    result = Entry(event, title, facts=_changes(data.get("changed", {})))
    if data.get("rule"):
        result.facts.append((_("routing rule"), data["rule"]))
    if data.get("by_name"):  # the external submitter, without an account: her name
        result.facts.append((_("by"), data["by_name"]))
    result.text = (_said_by_opsdesk(data) or data.get("reason") or data.get("comment")
                   or data.get("note") or "")
    result.facts += _follow_up_facts(data)
    plan = data.get("plan")
    if isinstance(plan, dict):
        result.facts.append((_("plan version"), f"#{plan.get('number')}"))
        if plan.get("summary"):
            kind = plan.get("kind")
            label = PlanKind(kind).label if kind in PlanKind.values else kind
            result.facts.append((_("plan kind"), label))
            result.text = plan["summary"]
        risks = _risks()
        flags = plan.get("risk_flags") or [n for n in risks if plan.get(n)]
        if flags:
            result.facts.append((_("needs approval because"), ", ".join(risks[n] for n in flags
                                                                        if n in risks)))
        if plan.get("fit_reason"):
            result.facts.append((_("why this plan fits the problem"), plan["fit_reason"]))
    tones: dict[str, str] = {Kind.APPROVAL: "approval", Kind.REJECTION: "rejection",
                             Kind.ESCALATION: "rejection", Kind.PLAN: "plan"}
    result.tone = tones.get(event.kind, "")
    return result


def _risks() -> dict[str, str]:
    """Why a plan needs approval, in the reader's language (read per call, never cached at
    import: that would freeze the language of whoever imported the module first)."""
    return {**{fld.name: str(fld.label) for fld in workflow.RISK_FLAGS},
            "does_not_fit_problem": _("the plan does not fit the problem type")}

ESCALATION_REASONS = {
    "plan_needed_approval": gettext_lazy("the failed plan needed the head's approval"),
    "deadline_passed": gettext_lazy("the deadline has passed"),
}


def _follow_up_facts(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """What the procedure's follow-ups add to an action's event: what a sent-back report
    lacks, why a failed fix went to the head, the original of a duplicate, the moment a
    progress update was owed, a reminder's number, a resolution's round and time."""
    facts: list[tuple[str, Any]] = []
    if data.get("missing"):
        labels = {fld.name: str(fld.label) for fld in _TICKET_FIELDS}
        facts.append((_("missing"), ", ".join(labels.get(n) or field_labels.label(n)
                                              for n in data["missing"])))
    if data.get("escalated"):
        facts.append((_("escalated to the department head"), ", ".join(
            str(ESCALATION_REASONS.get(r, r)) for r in data["escalated"])))
    if data.get("duplicate_of"):
        facts.append((_("duplicate of"), data["duplicate_of"]))
    if data.get("due"):
        facts.append((_("due"), _value("due", data["due"])))
    if data.get("reminder"):
        facts.append((_("reminder"), f"{data['reminder']} / {data.get('reminders') or '—'}"))
        if data.get("closes_at"):
            facts.append((_("closes unverified at"), _value("closes_at", data["closes_at"])))
    time_taken = data.get("time_taken")
    if isinstance(time_taken, dict):
        facts.append((_("round"), data.get("round")))
        facts.append((_("time taken (work log)"), time_taken.get("logged_minutes")))
    return facts


def _fields_changed(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    if "collaborators" in data:
        c = data["collaborators"]
        facts = [(_("added"), ", ".join(u["name"] for u in c.get("added", []))),
                 (_("removed"), ", ".join(u["name"] for u in c.get("removed", [])))]
        return Entry(event, _("Collaborators changed"), facts=[x for x in facts if x[1]])
    return Entry(event, _("Fields changed"), facts=_changes(data.get("changed", {})),
                 text=_change_reason(data.get("reason")))


def _change_reason(reason: Any) -> str:
    """Why a field changed: a person's words as written, or opsdesk's reason (a code with its
    particulars) in the reader's language."""
    if isinstance(reason, dict) and reason.get("code") == "severer_alert":
        return _("A more severe alert (%(level)s) fires in this fault: %(title)s") % {
            "level": reason.get("level", ""), "title": reason.get("title", "")}
    return "" if reason is None else str(reason)


def _work_log(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    kind, outcome = data.get("kind"), data.get("outcome")
    facts = [
        (_("kind"), StepKind(kind).label if kind in StepKind.values else kind),
        (_("where it ran"), data.get("target") or "—"),
        (_("outcome"), StepOutcome(outcome).label if outcome in StepOutcome.values else outcome),
        (_("plan version"), f"#{data.get('plan')}"),
    ]
    if data.get("duration_minutes") is not None:
        facts.append((_("duration (minutes)"), data["duration_minutes"]))
    title = _("Step executed (internal)") if event.internal else _("Step executed")
    return Entry(event, title, tone="step", code=data.get("command", ""),
                 output=data.get("output", ""), facts=facts)


def _comment(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    internal = data.get("internal", event.internal)
    return Entry(event, _("Internal note") if internal else _("Reply"),
                 tone="note" if internal else "comment", text=data.get("body", ""))


def _alert(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    status = data.get("status", "")
    if status == "truncated":
        count = int(data.get("truncated") or 0)
        return Entry(event, ngettext("%(count)d alert was truncated by Alertmanager",
                                     "%(count)d alerts were truncated by Alertmanager",
                                     count) % {"count": count}, tone="alert",
                     text=_("Its max_alerts setting left them out of the notification; "
                            "Alertmanager itself lists them."))
    if status == "recurred":  # the fault fired again after this ticket closed
        facts = [(_("occurrences"), data.get("occurrences")),
                 (_("first seen"), _value("first_seen", data.get("first_seen"))),
                 (_("last seen"), _value("last_seen", data.get("last_seen"))),
                 (_("resolved at"), _value("resolved_at", data.get("resolved_at")))]
        facts += [(Verbatim(name), value) for name, value in (data.get("labels") or {}).items()]
        members = data.get("members") or []
        if members:
            facts.append((_("alerts in the group"), len(members)))
        return Entry(event, _("The fault fired again: %(key)s") % {
            "key": data.get("recurrence", "")}, tone="alert", facts=facts,
            text=_("Its record under this ticket, kept as it was when it came back."))
    if status == "closed_while_firing":
        return Entry(event, _("Closed while the alert still fires"), tone="alert",
                     text=_("Its next repeat opens a new ticket, linked to this one as a "
                            "recurrence."),
                     facts=[(_("alert"), ", ".join(data.get("identities") or []))])
    if status == "updated":  # someone acted on the problem in the monitoring system
        facts = [(_("by"), data.get("user") or "—"), (_("action"), data.get("action") or "—")]
        if data.get("severity"):
            facts.append((_("severity"), data["severity"]))
        return Entry(event, _("Updated at the source"), tone="alert",
                     text=data.get("message", ""), facts=facts)
    facts = [(_("status"), str(ALERT_STATUSES.get(status, status))),
             (_("occurrences"), data.get("occurrences"))]
    if data.get("acknowledged"):
        facts.append((_("acknowledged at the source"),
                      _("yes: left open for the engineer to verify and close")))
    facts += [(Verbatim(name), value) for name, value in (data.get("labels") or {}).items()]
    return Entry(event, _("Alert occurrence"), tone="alert", facts=facts)


ALERT_STATUSES = {
    "firing": gettext_lazy("firing"),
    "resolved": gettext_lazy("resolved"),
}
SLA_EVENTS = {
    "started": gettext_lazy("clock started"),
    "response_met": gettext_lazy("response in time"),
    "paused": gettext_lazy("paused while waiting for the submitter"),
    "resumed": gettext_lazy("resumed"),
    "resolved": gettext_lazy("stopped: resolved"),
    "reopened": gettext_lazy("restarted: the fix was rejected"),
    "reopened_closed": gettext_lazy("restarted: the ticket was reopened"),
    "recomputed": gettext_lazy("due times recomputed"),
    "warning": gettext_lazy("at risk"),
    "breach": gettext_lazy("breached"),
    "severe": gettext_lazy("breached by 100%"),
}


# Why due times were recomputed.
SLA_REASONS = {
    "calendar_changed": gettext_lazy("the business calendar %(calendar)s changed"),
    "policy_changed": gettext_lazy("the SLA policies changed"),
    "ticket_changed": gettext_lazy("the ticket now falls under another policy"),
}
# A threshold reached, in words; "%(used)s" is the warning's share ("75%"), "%(target)s" the
# whole time allowed ("15 minutes"), which past +100% it is overdue by.
SLA_THRESHOLD_WORDS = {
    "warning": gettext_lazy("%(used)s of the time used"),
    "breach": gettext_lazy("all of the time used"),
    "severe": gettext_lazy("overdue by %(target)s"),
}


def _sla(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    facts = [(_("policy"), data.get("policy") or "—")]
    name = data.get("event", "")
    if name in SLA_THRESHOLD_WORDS:
        facts += _sla_threshold(name, data)
    for key, label in (("response_due_at", _("response due")),
                       ("resolution_due_at", _("resolution due"))):
        if data.get(key):
            facts.append((label, _value(key, data[key])))
    if reason := SLA_REASONS.get(data.get("reason", "")):
        facts.append((_("why"), str(reason) % {"calendar": data.get("calendar") or "—"}))
    if name == "reopened" and data.get("action") == "reopen":
        name = "reopened_closed"
    return Entry(event, f"SLA · {SLA_EVENTS.get(name, name)}", tone="clock", facts=facts)


def _sla_threshold(name: str, data: dict[str, Any]) -> list[tuple[str, Any]]:
    """Which deadline a threshold event is about, and how far along it the clock was. Events
    written before the deadline was recorded as such have neither."""
    target = Target.from_data(data.get("target"))
    if target is None:
        return []
    words = str(SLA_THRESHOLD_WORDS[name]) % {"used": data.get("used", "—"), "target": target}
    label = (_("response deadline") if data.get("clock_kind") == "response"
             else _("resolution deadline"))
    return [(label, _value("due", data.get("due"))), (_("threshold"), words)]


def _notification(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    abandoned = data.get("abandoned")
    if isinstance(abandoned, dict):  # every attempt failed: nobody received it
        kind = abandoned.get("notification", "")
        label = NotificationKind(kind).label if kind in NotificationKind.values else kind
        return Entry(event, f"{_('Notification not delivered')} · {label}", tone="muted",
                     facts=[(_("recipient"), abandoned.get("recipient") or "—"),
                            (_("channel"), abandoned.get("channel") or "—"),
                            (_("attempts"), abandoned.get("attempts")),
                            (_("last error"), abandoned.get("error") or "—")])
    people = ", ".join(str(r.get("name", "")) for r in data.get("recipients", [])
                       if isinstance(r, dict))
    facts = [(_("recipients"), people)] if people else []
    kind = data.get("notification", "")
    label = NotificationKind(kind).label if kind in NotificationKind.values else kind
    return Entry(event, f"{_('Notification')} · {label}", tone="muted", facts=facts)


def _routing(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    if data.get("note") == "waiting_for_duty":
        text = _("Waiting for the duty engineer %(duty)s to triage.") % {
            "duty": data.get("duty_name") or data.get("duty_engineer") or _("(nobody on duty)")}
    else:  # written before routing notes were stored as data: the words as written then
        text = str(data.get("message", ""))
    return Entry(event, _("Routing"), tone="muted", text=text)


def _attachment(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    if data.get("skipped"):  # a mailed file over the size limit, left out
        return Entry(event, _("File not attached: too large"), tone="file",
                     facts=[(_("file"), data["skipped"]),
                            (_("size"), file_size(data.get("size") or 0)),
                            (_("limit"), file_size(data.get("limit") or 0))])
    return Entry(event, _("File attached"), tone="file",
                 facts=[(_("file"), data.get("name", "")),
                        (_("size"), file_size(data.get("size") or 0))])


def _rating(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    score = int(data.get("score") or 0)
    return Entry(event, _("Support rated"), tone="approval", text=data.get("comment", ""),
                 facts=[(_("score"), "★" * score + "☆" * (5 - score))])


def _link(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    link = data.get("link") or {}
    kind = link.get("kind")
    if kind in LinkKind.values:
        label = (str(LinkKind(kind).label) if link.get("direction") == "outgoing"
                 else LinkKind(kind).inverse_label)
    else:
        label = str(kind)
    if not kind and data.get("article"):
        label = _("knowledge article")
    title = _("Linked") if event.kind == Kind.LINKED else _("Link removed")
    return Entry(event, f"{title}: {label} {link.get('other', '')}", tone="muted")


def _emergency(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    return Entry(event, _("Emergency declared"), tone="rejection", text=data.get("reason", ""),
                 facts=_changes(data.get("changed", {})))


def _status_update(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    facts = []
    if data.get("next_update_at"):
        facts.append((_("next update"), _value("next_update_at", data["next_update_at"])))
    return Entry(event, _("Status update"), tone="alert", text=data.get("message", ""),
                 facts=facts)


REVIEW_ACTIONS = {
    "started": gettext_lazy("Post-incident review started"),
    "edited": gettext_lazy("Post-incident review edited"),
    "completed": gettext_lazy("Post-incident review completed"),
    "reopened": gettext_lazy("Post-incident review back to draft: the ticket was reopened"),
    "action_added": gettext_lazy("Action item added"),
    "action_done": gettext_lazy("Action item done"),
    "action_reopened": gettext_lazy("Action item not done after all"),
}


def _review(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    title = str(REVIEW_ACTIONS.get(data.get("action", ""), event.get_kind_display()))
    facts: list[tuple[str, Any]] = []
    if isinstance(data.get("owner"), dict):
        facts.append((_("owner"), data["owner"].get("name", "")))
    if data.get("due_at"):
        facts.append((_("due"), _value("due_at", data["due_at"])))
    return Entry(event, title, tone="note", text=str(data.get("title") or ""), facts=facts)


def _other(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    return Entry(event, str(event.get_kind_display()),
                 facts=[(k, v) for k, v in data.items() if isinstance(v, str | int)])


_DESCRIBERS: dict[str, Callable[[TimelineEvent, dict[str, Any]], Entry]] = {
    Kind.CREATED: _created,
    Kind.TRANSITION: _transition,
    Kind.PLAN: _transition,
    Kind.APPROVAL: _transition,
    Kind.REJECTION: _transition,
    Kind.ESCALATION: _transition,
    Kind.VERIFICATION: _transition,
    Kind.FIELDS_CHANGED: _fields_changed,
    Kind.WORK_LOG: _work_log,
    Kind.COMMENT: _comment,
    Kind.ALERT: _alert,
    Kind.SLA: _sla,
    Kind.NOTIFICATION: _notification,
    Kind.ROUTING: _routing,
    Kind.ATTACHMENT: _attachment,
    Kind.RATING: _rating,
    Kind.LINKED: _link,
    Kind.UNLINKED: _link,
    Kind.EMERGENCY: _emergency,
    Kind.STATUS_UPDATE: _status_update,
    Kind.REVIEW: _review,
}


def plain_text(event: TimelineEvent) -> str:
    """The event as the ticket page shows it, as plain text in the active language and time
    zone: its title, then what was written, then each fact on a line of its own."""
    described = entry(event)
    lines = [described.title]
    if described.text:
        lines.append(str(described.text))
    lines += [f"{label}: {_text(value)}" for label, value in described.facts]
    return "\n".join(lines)
