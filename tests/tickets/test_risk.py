"""The table judges a plan's risk from the problem's classification and the plan together, not
from the assignee's flags alone (tickets/risk.py): every problem type × plan kind, with and
without a stated reason; and a work log takes only the kinds of step its plan covers."""

from __future__ import annotations

from typing import Any

import pytest

from opsdesk.accounts.models import ProblemType, User
from opsdesk.tickets import services
from opsdesk.tickets.choices import PlanKind, Status, StepKind
from opsdesk.tickets.errors import ApprovalRequired
from opsdesk.tickets.models import Ticket, WorkLogStep
from tests.factories import fields_for, ticket_in

pytestmark = pytest.mark.django_db

# What each kind of plan must say (tickets/workflow.py PLAN_FIELDS), and nothing risky.
PLAN = {
    PlanKind.CODE_FIX: {"fix_version": "2.3.1", "release_at": "2099-01-01T22:00:00+08:00"},
    PlanKind.ENVIRONMENT_CHANGE: {},
    PlanKind.SERVICE_RESTART: {},
    PlanKind.DATA_REPAIR: {},
    PlanKind.REQUIREMENT_DELIVERY: {"delivery_schedule": "下周评审，下月交付"},
    PlanKind.OTHER: {},
}
# The procedure, read by a person: F fits, E needs a reason or approval, A needs approval.
EXPECTED = {
    ProblemType.CODE: "F E E A E E",
    ProblemType.ENVIRONMENT: "F F F E E E",
    ProblemType.DATA: "F E E F E E",
    ProblemType.REQUIREMENT: "F E E E F E",
}
KINDS = list(PlanKind)  # code fix, environment change, restart, data repair, delivery, other
COMBINATIONS = [
    pytest.param(problem, kind, verdict, id=f"{problem}-{kind}")
    for problem, row in EXPECTED.items()
    for kind, verdict in zip(KINDS, row.split(), strict=True)
]


def planning(people: dict[str, User], problem: str) -> Ticket:
    ticket = ticket_in(Status.ANALYSING, people=people)
    fields = {**fields_for("classify", people), "problem_type": problem}
    return services.do_transition(ticket_id=ticket.pk, action="classify", by=people["owner"],
                                  version=ticket.version, fields=fields)


def propose(people: dict[str, User], ticket: Ticket, kind: str, **more: Any) -> Any:
    fields = {"plan_kind": kind, "plan_summary": "按方案处理", **PLAN[PlanKind(kind)], **more}
    return services.do_transition(ticket_id=ticket.pk, action="propose_plan",
                                  by=people["owner"], version=ticket.version, fields=fields)


@pytest.mark.parametrize(("problem", "kind", "verdict"), COMBINATIONS)
def test_without_a_reason_only_a_fitting_plan_skips_the_head(people, problem, kind, verdict):
    ticket = propose(people, planning(people, problem), kind)

    plan = ticket.current_plan
    # A code fix changes code: the head approves it whatever the problem.
    expect_approval = verdict != "F" or kind == PlanKind.CODE_FIX
    assert (ticket.status == Status.AWAITING_APPROVAL) is expect_approval
    assert plan.fit == ("fits" if verdict == "F" else "needs_approval")
    assert ("does_not_fit_problem" in plan.risk_flags) is (verdict != "F")


@pytest.mark.parametrize(("problem", "kind", "verdict"), COMBINATIONS)
def test_a_stated_reason_stands_in_for_approval_where_the_table_allows(api, people, problem,
                                                                      kind, verdict):
    ticket = planning(people, problem)
    reason = "先重启止血，代码修复另行排期"

    response = api["owner"].act(ticket.key, "propose_plan", plan_kind=kind,
                                plan_summary="按方案处理", fit_reason=reason,
                                **PLAN[PlanKind(kind)])

    assert response.status_code == 200, response.json()
    plan = response.json()["current_plan"]
    assert plan["fit"] == {"F": "fits", "E": "explained", "A": "needs_approval"}[verdict]
    assert plan["fit_reason"] == reason  # the head reads it, approving or not
    expect_approval = verdict == "A" or kind == PlanKind.CODE_FIX
    assert (response.json()["status"] == "awaiting_approval") is expect_approval
    assert plan["needs_approval"] is expect_approval
    event = [e for e in api["head"].timeline(ticket.key) if e["kind"] == "plan"][-1]
    assert event["data"]["plan"]["fit_reason"] == reason


def test_a_code_problem_fixed_by_a_restart_without_a_reason_waits_for_the_head(api, people):
    # The case: classified as code, the plan declared as a restart.
    ticket = planning(people, ProblemType.CODE)

    response = api["owner"].act(ticket.key, "propose_plan", plan_kind="service_restart",
                                plan_summary="重启 nginx")

    assert response.json()["status"] == "awaiting_approval"
    assert response.json()["current_plan"]["risk_flags"] == ["does_not_fit_problem"]
    refused = api["owner"].post(f"/tickets/{ticket.key}/worklog",
                                {"command": "systemctl restart nginx", "duration_minutes": 2})
    assert (refused.status_code, refused.json()["code"]) == (409, "approval_required")


# Which kinds of step a plan covers: S shell, Q SQL, C config, D deploy, O other.
COVERED = {
    PlanKind.CODE_FIX: "SQCDO",
    PlanKind.ENVIRONMENT_CHANGE: "SCO",
    PlanKind.SERVICE_RESTART: "SO",
    PlanKind.DATA_REPAIR: "SQO",
    PlanKind.REQUIREMENT_DELIVERY: "SQCDO",
    PlanKind.OTHER: "SCO",
}
LETTER = {StepKind.SHELL: "S", StepKind.SQL: "Q", StepKind.CONFIG: "C", StepKind.DEPLOY: "D",
          StepKind.OTHER: "O"}
FITTING = {PlanKind.CODE_FIX: ProblemType.CODE,
           PlanKind.ENVIRONMENT_CHANGE: ProblemType.ENVIRONMENT,
           PlanKind.SERVICE_RESTART: ProblemType.ENVIRONMENT,
           PlanKind.DATA_REPAIR: ProblemType.DATA,
           PlanKind.REQUIREMENT_DELIVERY: ProblemType.REQUIREMENT,
           PlanKind.OTHER: ProblemType.ENVIRONMENT}


@pytest.mark.parametrize("kind", KINDS)
def test_a_work_log_takes_only_the_steps_its_plan_covers(people, kind):
    ticket = propose(people, planning(people, FITTING[kind]), kind, fit_reason="巡检结论")
    if ticket.status == Status.AWAITING_APPROVAL:
        ticket = services.do_transition(ticket_id=ticket.pk, action="approve",
                                        by=people["head"], version=ticket.version)

    for step in StepKind:
        covered = LETTER[step] in COVERED[kind]
        try:
            services.add_work_log_step(ticket_id=ticket.pk, by=people["owner"],
                                       command=f"{step} 步骤", kind=step, duration_minutes=5)
        except ApprovalRequired as refusal:
            assert not covered, (kind, step)
            assert str(step.label) in refusal.message and refusal.details["field"] == "kind"
        else:
            assert covered, (kind, step)
    recorded = set(WorkLogStep.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert recorded == {s.value for s in StepKind if LETTER[s] in COVERED[kind]}
