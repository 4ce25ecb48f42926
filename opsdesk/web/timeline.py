"""A ticket's timeline events as people read them: who, when, what, in the reader's language.

Only presentation: the events themselves are written by the services and never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk.notify.choices import NotificationKind
from opsdesk.tickets import fields as f
from opsdesk.tickets import workflow
from opsdesk.tickets.choices import PlanKind, Priority, Status, StepKind, StepOutcome
from opsdesk.tickets.models import TimelineEvent

Kind = TimelineEvent.Kind
# Every field an action or an edit stores on the ticket: how a change of it is labelled.
_TICKET_FIELDS = {
    *workflow.EDITABLE_FIELDS.values(),
    *(fld for t in workflow.TRANSITIONS for fld in t.fields if fld.target is f.Target.TICKET),
}
_FIELD_CHOICES = {fld.name: fld.choices for fld in _TICKET_FIELDS
                  if fld.choices and fld.name != "priority"}


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


def _action_label(name: str) -> str:
    transition = workflow.get(name)
    return str(transition.label) if transition else name


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
        (labels.get(name, name), f"{_text(_value(name, c.get('from')))} → "
                                 f"{_text(_value(name, c.get('to')))}")
        for name, c in changed.items() if isinstance(c, dict)
    ]


def _text(value: Any) -> str:
    if hasattr(value, "strftime"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def entry(event: TimelineEvent) -> Entry:
    """One event, described."""
    data: dict[str, Any] = event.data or {}
    describe = _DESCRIBERS.get(event.kind, _other)
    return describe(event, data)


def _created(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    return Entry(event, _("Registered"), facts=[(_("priority"), _value("priority",
                                                                   data.get("priority")))])


def _transition(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    title = _action_label(data.get("action", ""))
    if data.get("from") != data.get("to"):
        title = f"{title}: {_status(data.get('from'))} → {_status(data.get('to'))}"
    result = Entry(event, title, facts=_changes(data.get("changed", {})))
    if data.get("rule"):
        result.facts.append((_("routing rule"), data["rule"]))
    result.text = data.get("reason") or data.get("comment") or ""
    plan = data.get("plan")
    if isinstance(plan, dict):
        result.facts.append((_("plan version"), f"#{plan.get('number')}"))
        if plan.get("summary"):
            kind = plan.get("kind")
            label = PlanKind(kind).label if kind in PlanKind.values else kind
            result.facts.append((_("plan kind"), label))
            result.text = plan["summary"]
        flags = plan.get("risk_flags") or [n for n in _RISK if plan.get(n)]
        if flags:
            result.facts.append((_("needs approval because"), ", ".join(_RISK[n] for n in flags
                                                                        if n in _RISK)))
    tones: dict[str, str] = {Kind.APPROVAL: "approval", Kind.REJECTION: "rejection",
                             Kind.ESCALATION: "rejection", Kind.PLAN: "plan"}
    result.tone = tones.get(event.kind, "")
    return result


_RISK = {fld.name: str(fld.label) for fld in workflow.RISK_FLAGS}


def _fields_changed(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    if "collaborators" in data:
        c = data["collaborators"]
        facts = [(_("added"), ", ".join(u["name"] for u in c.get("added", []))),
                 (_("removed"), ", ".join(u["name"] for u in c.get("removed", [])))]
        return Entry(event, _("Collaborators changed"), facts=[x for x in facts if x[1]])
    return Entry(event, _("Fields changed"), facts=_changes(data.get("changed", {})))


def _work_log(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    kind, outcome = data.get("kind"), data.get("outcome")
    facts = [
        (_("kind"), StepKind(kind).label if kind in StepKind.values else kind),
        (_("where it ran"), data.get("target") or "—"),
        (_("outcome"), StepOutcome(outcome).label if outcome in StepOutcome.values else outcome),
        (_("plan version"), f"#{data.get('plan')}"),
    ]
    return Entry(event, _("Step executed"), tone="step", code=data.get("command", ""),
                 output=data.get("output", ""), facts=facts)


def _comment(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    internal = data.get("internal", event.internal)
    return Entry(event, _("Internal note") if internal else _("Reply"),
                 tone="note" if internal else "comment", text=data.get("body", ""))


def _alert(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    facts = [(_("status"), data.get("status", "")), (_("occurrences"), data.get("occurrences"))]
    facts += [(name, value) for name, value in (data.get("labels") or {}).items()]
    return Entry(event, _("Alert occurrence"), tone="alert", facts=facts)


SLA_EVENTS = {
    "started": gettext_lazy("clock started"),
    "response_met": gettext_lazy("response in time"),
    "paused": gettext_lazy("paused while waiting for the submitter"),
    "resumed": gettext_lazy("resumed"),
    "resolved": gettext_lazy("stopped: resolved"),
    "reopened": gettext_lazy("restarted: the fix was rejected"),
    "recomputed": gettext_lazy("due times recomputed"),
    "warning": gettext_lazy("at risk"),
    "breach": gettext_lazy("breached"),
    "severe": gettext_lazy("breached by 100%"),
}


def _sla(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    facts = [(_("policy"), data.get("policy") or "—")]
    for name, label in (("response_due_at", _("response due")),
                        ("resolution_due_at", _("resolution due"))):
        if data.get(name):
            facts.append((label, _value(name, data[name])))
    name = data.get("event", "")
    return Entry(event, f"SLA · {SLA_EVENTS.get(name, name)}", tone="clock", facts=facts)


def _notification(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    people = ", ".join(str(r.get("name", "")) for r in data.get("recipients", [])
                       if isinstance(r, dict))
    facts = [(_("recipients"), people)] if people else []
    kind = data.get("notification", "")
    label = NotificationKind(kind).label if kind in NotificationKind.values else kind
    return Entry(event, f"{_('Notification')} · {label}", tone="muted", facts=facts)


def _routing(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    return Entry(event, _("Routing"), tone="muted", text=str(data.get("message", "")))


def _attachment(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    return Entry(event, _("File attached"), tone="file",
                 facts=[(_("file"), data.get("name", "")),
                        (_("size"), filesizeformat(data.get("size") or 0))])


def _rating(event: TimelineEvent, data: dict[str, Any]) -> Entry:
    score = int(data.get("score") or 0)
    return Entry(event, _("Support rated"), tone="approval", text=data.get("comment", ""),
                 facts=[(_("score"), "★" * score + "☆" * (5 - score))])


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
}
