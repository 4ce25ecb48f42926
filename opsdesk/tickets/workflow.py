"""The problem-resolution procedure as one table.

Each row is one action a person can take on a ticket: from which states, to which state, who
may take it, which fields it requires (some only under a condition), which it accepts, and
what it does besides. The service enforces this table and nothing else; the API, the UI and
the docs read it. Changing the procedure means editing this file.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.roles import Role
from opsdesk.tickets import effects
from opsdesk.tickets import fields as f
from opsdesk.tickets.choices import Status as S
from opsdesk.tickets.models import Ticket


class Party(enum.StrEnum):
    """Who may act by their relation to the ticket rather than by role."""

    ASSIGNEE = "ticket_assignee"
    SUBMITTER = "ticket_submitter"


Actor = Role | Party
Condition = Callable[[Ticket, dict[str, Any]], bool]


@dataclass(frozen=True)
class Need:
    """A required field, optionally only when ``when`` holds (``why`` says when, for people).

    A ticket field the ticket already holds satisfies the need, unless ``given``: then the
    caller must send it with the action (a reassignment names the new assignee)."""

    field: f.Field
    when: Condition | None = None
    why: Promise | None = None
    given: bool = False

    def applies(self, ticket: Ticket, values: dict[str, Any]) -> bool:
        return self.when is None or self.when(ticket, values)


def need(
    field: f.Field, when: Condition | None = None, why: Promise | None = None,
    *, given: bool = False,
) -> Need:
    return Need(field, when, why, given)


@dataclass(frozen=True)
class Force:
    """A field the action sets to ``value`` when ``when`` holds, whatever the caller sent:
    a risk the procedure names cannot be talked down."""

    field: f.Field
    value: Any
    when: Condition
    why: Promise


def force(field: f.Field, value: Any, when: Condition, why: Promise) -> Force:
    return Force(field, value, when, why)


@dataclass(frozen=True)
class Guard:
    """A business rule on when an action may be taken at all: ``refusal`` says why not (in the
    reader's language), or None when it may; ``rule`` states it for the docs."""

    refusal: Callable[[Ticket, datetime], str | None]
    rule: Promise


# ``target`` is a status, STAY (the action keeps the status) or PREVIOUS (back from waiting).
STAY = "stay"
PREVIOUS = "previous"


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise
    sources: tuple[S, ...]
    target: str
    by: frozenset[Actor]
    requires: tuple[Need, ...] = ()
    accepts: tuple[f.Field, ...] = ()
    forces: tuple[Force, ...] = ()
    guards: tuple[Guard, ...] = ()
    gate: Callable[[effects.ActionContext], S | None] | None = None
    effects: tuple[Callable[[effects.ActionContext], None], ...] = ()
    help: Promise | str = ""

    @property
    def fields(self) -> tuple[f.Field, ...]:
        return tuple(n.field for n in self.requires) + self.accepts

    def refusal(self, ticket: Ticket, now: datetime) -> str | None:
        """Why a guard refuses the action on ``ticket`` now, or None."""
        return next((why for g in self.guards if (why := g.refusal(ticket, now))), None)


URGENT_OR_HIGH = _("for urgent and high priority")
CODE_FIX = _("for a code fix")
DELIVERY = _("for requirement delivery and cross-department requests")
CROSS_DEPARTMENT = _("on every plan of a cross-department request")
AFTER_FAILED_FIX = _("once a fix has failed or the ticket was reopened")
NOT_A_DUPLICATE = _("unless it is a duplicate")
A, B, C, F = Role.DUTY, Role.OWNER, Role.SUPPORT, Role.HEAD
ASSIGNEE, SUBMITTER = Party.ASSIGNEE, Party.SUBMITTER
# Actions only opsdesk's worker takes (reminders, automatic closure): no person may.
OPSDESK: frozenset[Actor] = frozenset()
WORKING = (S.ANALYSING, S.PLANNING, S.AWAITING_APPROVAL, S.IN_PROGRESS)
# Picked up and not finished: where a deadline can pass and progress can be reported.
UNDER_WAY = (S.ASSIGNED, *WORKING)
CLOSURE = (S.CLOSED, S.ARCHIVED)
PLAN_FIELDS = (
    need(f.PLAN_KIND),
    need(f.PLAN_SUMMARY),
    need(f.FIX_VERSION, effects.is_code_fix, CODE_FIX),
    need(f.RELEASE_AT, effects.is_code_fix, CODE_FIX),
    need(f.DELIVERY_SCHEDULE, effects.is_delivery, DELIVERY),
    # The procedure: when a fix did not work, the next plan and the expected completion time.
    need(f.EXPECTED_COMPLETION, effects.after_failed_fix, AFTER_FAILED_FIX, given=True),
)
RISK_FLAGS = (f.CHANGES_CODE, f.MAJOR_ENVIRONMENT_CHANGE, f.NEEDS_OTHER_DEPARTMENT)
WITHIN_REOPEN_WINDOW = Guard(
    effects.outside_reopen_window,
    _("within OPSDESK_REOPEN_DAYS days of closing (7 by default); after that, report a "
      "recurrence"),
)
REVIEWED_IF_URGENT = Guard(
    effects.review_missing,
    _("urgent tickets and emergencies once their post-incident review is complete"),
)
FORCED_RISKS = (
    force(f.CHANGES_CODE, True, effects.is_code_fix, CODE_FIX),
    force(f.NEEDS_OTHER_DEPARTMENT, True, effects.is_cross_department, CROSS_DEPARTMENT),
)

TRANSITIONS: tuple[Transition, ...] = (
    # 1. Intake and registration: the duty engineer sets the priority and the assignee.
    Transition(
        "triage", _("Assign"), (S.NEW,), S.ASSIGNED, frozenset({A, F}),
        requires=(need(f.PRIORITY), need(f.ASSIGNEE)),
        accepts=(f.MODULE, f.PROBLEM_TYPE, f.COMMENT),
        help=_("Urgent and high go to the module owner, medium and low to a support engineer."),
    ),
    Transition(
        "reassign", _("Reassign"),
        (S.ASSIGNED, S.WAITING, *WORKING), STAY, frozenset({A, F, ASSIGNEE}),
        requires=(need(f.ASSIGNEE, given=True),), accepts=(f.REASON,),
    ),
    Transition(
        "send_back", _("Send back to the submitter"), (S.NEW, S.ASSIGNED), S.WAITING,
        frozenset({A, F}), requires=(need(f.REASON),),
        effects=(effects.note_missing_registration, effects.remember_status_before_waiting),
        help=_("The report is incomplete: the submitter is told what is missing; her answer or "
               "her completed report brings it back."),
    ),
    Transition(
        "dismiss", _("Close without action"), (S.NEW, S.ASSIGNED, S.ANALYSING), S.CLOSED,
        frozenset({A, F}), requires=(need(f.REASON, effects.not_a_duplicate, NOT_A_DUPLICATE),),
        accepts=(f.DUPLICATE_OF,), effects=(effects.set_closed, effects.link_duplicate),
        help=_("A duplicate (name the original), a mistake or not a problem; the reason is "
               "kept."),
    ),
    # 2. Analysis and classification: the assignee acknowledges, analyses, classifies.
    Transition(
        "acknowledge", _("Start analysis"), (S.ASSIGNED,), S.ANALYSING, frozenset({ASSIGNEE}),
        requires=(need(f.PRIORITY), need(f.ASSIGNEE)), accepts=(f.COMMENT,),
    ),
    Transition(
        "classify", _("Classify"), (S.ANALYSING,), S.PLANNING, frozenset({ASSIGNEE}),
        requires=(
            need(f.PROBLEM_TYPE), need(f.MODULE), need(f.ESTIMATE),
            need(f.DEADLINE, effects.is_urgent_or_high, URGENT_OR_HIGH),
        ),
        accepts=(f.ANALYSIS_NOTES,),
    ),
    # 3. Handling: a plan; risky plans wait for the department head; every step on record.
    Transition(
        "propose_plan", _("Propose plan"), (S.PLANNING,), S.IN_PROGRESS, frozenset({ASSIGNEE}),
        requires=PLAN_FIELDS, accepts=(*RISK_FLAGS, f.FIT_REASON), forces=FORCED_RISKS,
        gate=effects.approval_gate, effects=(effects.record_plan,),
        help=_(
            "A plan that changes code, changes the environment in a major way or needs another "
            "department waits for the department head's approval; so does a plan that does "
            "not fit the problem's type, unless you say why it does (the head sees it)."
        ),
    ),
    Transition(
        "approve", _("Approve plan"), (S.AWAITING_APPROVAL,), S.IN_PROGRESS, frozenset({F}),
        accepts=(f.COMMENT,), effects=(effects.approve_plan,),
    ),
    Transition(
        "reject_plan", _("Reject plan"), (S.AWAITING_APPROVAL,), S.PLANNING, frozenset({F}),
        requires=(need(f.REASON),), effects=(effects.note_rejected_plan,),
    ),
    Transition(
        "revise_plan", _("Revise plan"), (S.IN_PROGRESS,), S.PLANNING, frozenset({ASSIGNEE}),
        requires=(need(f.REASON),),
        help=_("The plan did not work or needs more; write a new one."),
    ),
    Transition(
        "escalate", _("Escalate to the department head"), WORKING, STAY,
        frozenset({ASSIGNEE, A}), requires=(need(f.REASON),), effects=(effects.mark_escalated,),
    ),
    Transition(
        "progress_update", _("Report progress"), UNDER_WAY, STAY, frozenset({ASSIGNEE}),
        requires=(need(f.NEXT_STEP, given=True), need(f.EXPECTED_COMPLETION, given=True)),
        help=_("The next step and when it should be done, for the submitter."),
    ),
    Transition(
        "request_progress", _("Ask for a progress update"), UNDER_WAY, STAY, OPSDESK,
        effects=(effects.note_progress_requested,),
        help=_("The deadline passed: the assignee is asked for the next step and the expected "
               "completion time."),
    ),
    Transition(
        "request_info", _("Ask the submitter"), (S.ANALYSING, S.PLANNING, S.IN_PROGRESS),
        S.WAITING, frozenset({ASSIGNEE}), requires=(need(f.COMMENT),),
        effects=(effects.remember_status_before_waiting,),
    ),
    Transition(
        "resume", _("Resume"), (S.WAITING,), PREVIOUS, frozenset({ASSIGNEE, SUBMITTER, A}),
        accepts=(f.COMMENT,),
    ),
    # 4. Result feedback: cause, solution, time taken and prevention, then the submitter verifies.
    Transition(
        "resolve", _("Send for verification"), (S.IN_PROGRESS,), S.AWAITING_VERIFICATION,
        frozenset({ASSIGNEE}),
        # The time taken is given with every resolution: the last one's figure is kept on
        # the timeline, never carried over or replaced unseen.
        requires=(need(f.CAUSE), need(f.SOLUTION), need(f.TIME_TAKEN, given=True),
                  need(f.PREVENTION)),
        accepts=(f.VERIFICATION_EVIDENCE,),
        effects=(effects.note_resolution_round, effects.await_verification),
    ),
    Transition(
        "confirm", _("Confirm the fix"), (S.AWAITING_VERIFICATION,), S.CLOSED,
        frozenset({SUBMITTER}), accepts=(f.COMMENT,), effects=(effects.set_closed,),
    ),
    Transition(
        "reject_fix", _("Not fixed"), (S.AWAITING_VERIFICATION,), S.PLANNING,
        frozenset({SUBMITTER}), requires=(need(f.REASON),),
        effects=(effects.count_reopen, effects.escalate_failed_fix),
        help=_("Back to planning: the approved plan no longer covers new steps; a new plan, "
               "approved again if its risk needs it, and an expected completion time. The "
               "department head is told when the failed plan needed approval or the deadline "
               "has passed."),
    ),
    Transition(
        "remind_verification", _("Remind the submitter to verify"),
        (S.AWAITING_VERIFICATION,), STAY, OPSDESK, effects=(effects.note_reminder,),
        help=_("Once a working day while the fix waits for verification."),
    ),
    Transition(
        "auto_close", _("Close unverified"), (S.AWAITING_VERIFICATION,), S.CLOSED, OPSDESK,
        effects=(effects.set_closed, effects.note_auto_close),
        help=_("After OPSDESK_VERIFICATION_DAYS working days without an answer (3 by default)."),
    ),
    Transition(
        "close_with_evidence", _("Close with evidence"), (S.AWAITING_VERIFICATION,), S.CLOSED,
        frozenset({ASSIGNEE, A}), requires=(need(f.VERIFICATION_EVIDENCE),),
        effects=(effects.set_closed,),
        help=_("Where the submitter cannot verify (back-end work), logs or screenshots prove it."),
    ),
    # 5. Closure and archiving.
    Transition(
        "archive", _("Archive"), (S.CLOSED,), S.ARCHIVED, frozenset({A, ASSIGNEE, F}),
        guards=(REVIEWED_IF_URGENT,), effects=(effects.set_archived,),
        help=_("Archived tickets are read-only and stay searchable. opsdesk archives closed "
               "tickets after OPSDESK_ARCHIVE_AFTER_DAYS days (30 by default)."),
    ),
    Transition(
        "reopen", _("Reopen"), CLOSURE, S.ANALYSING, frozenset({SUBMITTER, ASSIGNEE, A, F}),
        requires=(need(f.REASON),), guards=(WITHIN_REOPEN_WINDOW,),
        gate=effects.back_to_triage_without_assignee,
        effects=(effects.count_reopen, effects.reopen_closed),
        help=_("It happened again soon after closing: back to analysis, the resolution clock "
               "running again."),
    ),
)

BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}
# Work-log steps are accepted only here: after approval, if the plan needed it.
EXECUTION_STATES = frozenset({S.IN_PROGRESS})
READ_ONLY_STATES = frozenset({S.CLOSED, S.ARCHIVED})


def get(name: str) -> Transition | None:
    return BY_NAME.get(name)


def resolve_target(transition: Transition, ticket: Ticket) -> S:
    """The state an action leads to, before any gate."""
    if transition.target == STAY:
        return S(ticket.status)
    if transition.target == PREVIOUS:
        return S(ticket.status_before_waiting or S.ANALYSING)
    return S(transition.target)


@dataclass(frozen=True)
class Edit:
    """Fields a party may change outside an action, in the given states."""

    fields: tuple[f.Field, ...]
    by: frozenset[Actor]
    states: frozenset[S]
    when: Callable[[Ticket], bool] | None = None

    def applies(self, ticket: Ticket) -> bool:
        return ticket.status in self.states and (self.when is None or self.when(ticket))


OPEN_STATES = frozenset(S) - READ_ONLY_STATES
REGISTRATION = (
    f.TITLE, f.DESCRIPTION, f.OCCURRED_AT, f.STEPS, f.ERROR_MESSAGE, f.IMPACT_SCOPE,
    f.SUBMITTER_DEPARTMENT, f.SUBMITTER_CONTACT, f.IMPACT, f.URGENCY,
)
CLASSIFICATION = (f.PRIORITY, f.MODULE, f.PROBLEM_TYPE, f.ESTIMATE, f.DEADLINE, f.ANALYSIS_NOTES)

EDITS: tuple[Edit, ...] = (
    Edit(REGISTRATION + CLASSIFICATION, frozenset({A, F, ASSIGNEE}), OPEN_STATES),
    # The submitter may correct the report until someone has picked it up, and complete it
    # when it is sent back to her (which resumes it).
    Edit(REGISTRATION, frozenset({SUBMITTER}), frozenset({S.NEW})),
    Edit(REGISTRATION, frozenset({SUBMITTER}), frozenset({S.WAITING}), effects.is_sent_back),
    # The reported time taken may be corrected while the fix is verified; each figure stays
    # on the timeline.
    Edit((f.TIME_TAKEN,), frozenset({A, F, ASSIGNEE}), frozenset({S.AWAITING_VERIFICATION})),
)
EDITABLE_FIELDS: dict[str, f.Field] = {fld.name: fld for e in EDITS for fld in e.fields}
