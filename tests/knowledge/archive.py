"""A department's archive for the knowledge tests: problems reported, walked through the
procedure by the services and closed with their resolution reports."""

from __future__ import annotations

from typing import Any

from opsdesk.accounts.models import Module, User
from opsdesk.tickets import services
from opsdesk.tickets.choices import Status
from opsdesk.tickets.models import Ticket
from tests.factories import PLANS, ModuleFactory, TicketFactory, fields_for

# Neutral text for the fields a report must have, so that only what a test says is found.
BLANK = {"description": "详见标题", "steps_to_reproduce": "无", "error_message": "无",
         "impact_scope": "一人"}
PLAN_FOR = {"environment": "service_restart", "code": "code_fix"}


def users_module(people: dict[str, User]) -> Module:
    return ModuleFactory(code="users", name="用户中心", owner=people["owner"])


def reported(people: dict[str, User], by: str = "submitter", **registration: Any) -> Ticket:
    """A problem just reported by ``people[by]``."""
    return TicketFactory(by=people[by], **{**BLANK, **registration})


def solved(people: dict[str, User], *, cause: str, solution: str, prevention: str = "无",
           by: str = "submitter", module: str = "payment", problem_type: str = "environment",
           collaborators: tuple[str, ...] = (), archive: bool = False,
           **registration: Any) -> Ticket:
    """A problem reported by ``people[by]``, handled by the module owner in ``module`` with
    ``problem_type``, resolved with this report and confirmed by its submitter (then
    archived, with ``archive``)."""
    ticket = reported(people, by=by, **registration)
    if collaborators:
        services.set_collaborators(ticket_id=ticket.pk, by=people["duty"],
                                   add=[people[name].username for name in collaborators])
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("triage", "duty", fields_for("triage", people)),
        ("acknowledge", "owner", {}),
        ("classify", "owner", {**fields_for("classify", people), "module": module,
                               "problem_type": problem_type}),
        ("propose_plan", "owner", PLANS[PLAN_FOR[problem_type]]),
        ("approve", "head", {}),
        ("resolve", "owner", {"cause": cause, "solution": solution, "prevention": prevention,
                              "time_taken_minutes": 45}),
        ("confirm", by, {}),
        *([("archive", "duty", {})] if archive else []),
    ]
    for action, who, fields in steps:
        ticket.refresh_from_db()
        if action == "approve" and ticket.status != Status.AWAITING_APPROVAL:
            continue
        services.do_transition(ticket_id=ticket.pk, action=action, by=people[who],
                               version=ticket.version, fields=fields)
    ticket.refresh_from_db()
    return ticket
