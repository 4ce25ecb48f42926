"""The risk rules beside the workflow table, as data: which plans the department head must
approve given the problem's classification, and which executed steps a plan covers.

The assignee's own flags (changes code, major environment change, another department) still
count; these tables add what the classification says, so that a code problem "fixed" by a plan
declared as a service restart cannot skip the head, nor its work log carry a deployment or SQL.
"""

from __future__ import annotations

import enum

from django.utils.translation import gettext_lazy as _

from opsdesk.accounts.models import ProblemType
from opsdesk.tickets.choices import PlanFit, PlanKind, StepKind


class Fit(enum.StrEnum):
    FITS = "fits"  # the plan kind answers this type of problem
    EXPLAIN = "explain"  # it may: a stated reason (shown to the head), or the head approves
    APPROVAL = "approval"  # the head approves it, whatever the reason


T, K = ProblemType, PlanKind
# Problem type × plan kind. A combination not listed needs a reason or approval (EXPLAIN).
PLAN_FIT: dict[tuple[str, str], Fit] = {
    # A code problem is fixed in code. A data repair would hide the defect under changed
    # production data: always the head's decision.
    (T.CODE, K.CODE_FIX): Fit.FITS,
    (T.CODE, K.DATA_REPAIR): Fit.APPROVAL,
    # Environment: scale-out, network or configuration change, service restart; or code.
    (T.ENVIRONMENT, K.ENVIRONMENT_CHANGE): Fit.FITS,
    (T.ENVIRONMENT, K.SERVICE_RESTART): Fit.FITS,
    (T.ENVIRONMENT, K.CODE_FIX): Fit.FITS,
    # Data: restore, SQL optimisation, cleaning; or the code that corrupts it.
    (T.DATA, K.DATA_REPAIR): Fit.FITS,
    (T.DATA, K.CODE_FIX): Fit.FITS,
    # Requirement: evaluation and a delivery schedule; or a code change.
    (T.REQUIREMENT, K.REQUIREMENT_DELIVERY): Fit.FITS,
    (T.REQUIREMENT, K.CODE_FIX): Fit.FITS,
}
FIT_WORDS = {
    Fit.FITS: _("fits"),
    Fit.EXPLAIN: _("a stated reason (shown to the head) or the head's approval"),
    Fit.APPROVAL: _("the head's approval"),
}


def fit_of(problem_type: str, plan_kind: str) -> Fit:
    """What the table says of a ``plan_kind`` plan for a ``problem_type`` problem."""
    return PLAN_FIT.get((problem_type, plan_kind), Fit.EXPLAIN)


def plan_fit(problem_type: str, plan_kind: str, reason: str) -> PlanFit:
    """The verdict recorded on a plan: it fits, the assignee explained why it does, or the
    head must approve it."""
    fit = fit_of(problem_type, plan_kind)
    if fit is Fit.FITS:
        return PlanFit.FITS
    if fit is Fit.EXPLAIN and reason:
        return PlanFit.EXPLAINED
    return PlanFit.NEEDS_APPROVAL


S = StepKind
# The kinds of executed step each plan kind covers; "other" (a check, a note of what was seen)
# fits every plan. A step of another kind needs a plan that covers it: revise the plan.
STEPS_COVERED: dict[str, frozenset[str]] = {
    K.CODE_FIX: frozenset({S.DEPLOY, S.CONFIG, S.SHELL, S.SQL, S.OTHER}),
    K.ENVIRONMENT_CHANGE: frozenset({S.CONFIG, S.SHELL, S.OTHER}),
    K.SERVICE_RESTART: frozenset({S.SHELL, S.OTHER}),
    K.DATA_REPAIR: frozenset({S.SQL, S.SHELL, S.OTHER}),
    K.REQUIREMENT_DELIVERY: frozenset({S.DEPLOY, S.CONFIG, S.SQL, S.SHELL, S.OTHER}),
    K.OTHER: frozenset({S.SHELL, S.CONFIG, S.OTHER}),
}


def covers(plan_kind: str, step_kind: str) -> bool:
    return step_kind in STEPS_COVERED.get(plan_kind, frozenset())
