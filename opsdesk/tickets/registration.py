"""What a complete report holds, by the door it came in through, as data.

The procedure asks the duty engineer to make sure a report says when it happened, the steps,
the error message, the scope of impact and how to reach the submitter. Where a person fills in
a form (the portal, the API) opsdesk asks for them all at once; other doors carry their own
(an alert its host, rule and time; a mail its text; an inspection its finding), and a report
that still lacks something can be sent back to its submitter (the ``send_back`` action).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opsdesk.tickets import fields as f
from opsdesk.tickets.choices import Channel, Impact, SourceKind
from opsdesk.tickets.errors import MissingFields

Condition = Callable[[Any], bool]


def _a_fault(ticket: Any) -> bool:
    """A suggestion or a question has no occurrence, steps or error message to give."""
    return ticket.impact != Impact.NONE


@dataclass(frozen=True)
class Required:
    field: f.Field
    when: Condition | None = None
    why: Promise | None = None

    def applies(self, ticket: Any) -> bool:
        return self.when is None or self.when(ticket)


FAULT = gettext_lazy("unless it is a suggestion or a question")
A_PERSONS_REPORT = (
    Required(f.DESCRIPTION),
    Required(f.OCCURRED_AT, _a_fault, FAULT),
    Required(f.IMPACT_SCOPE),
    Required(f.STEPS, _a_fault, FAULT),
    Required(f.ERROR_MESSAGE, _a_fault, FAULT),
    Required(f.SUBMITTER_CONTACT),
)


@dataclass(frozen=True)
class Door:
    """Reports of ``source`` through ``channels`` must hold ``requires`` when filed."""

    source: SourceKind
    channels: frozenset[Channel]
    requires: tuple[Required, ...]
    note: Promise


PEOPLE = frozenset({Channel.WEB, Channel.API})
DOORS: tuple[Door, ...] = (
    Door(SourceKind.USER_REPORT, PEOPLE, A_PERSONS_REPORT,
         gettext_lazy("a person fills in the form: everything the procedure lists")),
    Door(SourceKind.USER_REPORT, frozenset({Channel.EMAIL}), (),
         gettext_lazy("the mail's subject and text; the duty engineer sends back what is "
                      "missing")),
    Door(SourceKind.USER_REPORT, frozenset({Channel.CUSTOMER_SERVICE, Channel.TICKET_PLATFORM}),
         (), gettext_lazy("what the other system's mapping carries")),
    Door(SourceKind.ALERT, frozenset(Channel), (),
         gettext_lazy("the alert's host, rule, level, time and symptom, as the monitor sends")),
    Door(SourceKind.INSPECTION, frozenset(Channel), (Required(f.DESCRIPTION),),
         gettext_lazy("the check and what it found")),
    Door(SourceKind.CROSS_DEPARTMENT, frozenset(Channel),
         (Required(f.DESCRIPTION), Required(f.SUBMITTER_CONTACT)),
         gettext_lazy("what is needed, why, by when, and a contact")),
    Door(SourceKind.EMERGENCY, frozenset(Channel), (Required(f.DESCRIPTION),),
         gettext_lazy("what stopped: speed first, details on the ticket")),
)
# Every field the procedure lists for a report: what ``send_back`` names when it is missing.
COMPLETE = A_PERSONS_REPORT


def door_for(source: str, channel: str) -> Door | None:
    return next((d for d in DOORS if d.source == source and channel in d.channels), None)


def missing(ticket: Any, requirements: tuple[Required, ...]) -> list[Required]:
    return [r for r in requirements if r.applies(ticket)
            and getattr(ticket, r.field.name) in (None, "")]


def check_complete(ticket: Any) -> None:
    """Refuse a report its door requires more of, naming every missing field at once."""
    door = door_for(ticket.source_kind, ticket.channel)
    gaps = missing(ticket, door.requires) if door is not None else []
    if gaps:
        raise MissingFields(
            _("The report is incomplete; please add: %(fields)s.")
            % {"fields": ", ".join(str(r.field.label) for r in gaps)},
            missing=[r.field.name for r in gaps],
        )


def still_missing(ticket: Any) -> list[str]:
    """The fields of a complete report that ``ticket`` lacks (whatever door it came in by)."""
    return [r.field.name for r in missing(ticket, COMPLETE)]
