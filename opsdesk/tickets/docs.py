"""The workflow table rendered for people (Markdown) and machines (JSON)."""

from __future__ import annotations

from typing import Any

from opsdesk.accounts.models import ProblemType
from opsdesk.tickets import registration, risk, workflow
from opsdesk.tickets.choices import Channel, PlanKind, Status, StepKind
from opsdesk.tickets.policy import describe_actors


def _target(t: workflow.Transition) -> str:
    if t.target == workflow.STAY:
        return "(unchanged)"
    if t.target == workflow.PREVIOUS:
        return "(state before waiting)"
    return str(t.target)


def workflow_as_data() -> dict[str, Any]:
    return {
        "states": [{"name": s.value, "label": str(s.label)} for s in Status],
        "transitions": [
            {
                "name": t.name,
                "label": str(t.label),
                "from": [str(s) for s in t.sources],
                "to": _target(t),
                "by": sorted(str(w) for w in t.by),
                "requires": [
                    {"field": n.field.name, "when": str(n.why) if n.why else None}
                    for n in t.requires
                ],
                "accepts": [fld.name for fld in t.accepts],
                "forces": [
                    {"field": rule.field.name, "value": rule.value, "when": str(rule.why)}
                    for rule in t.forces
                ],
                "guards": [str(g.rule) for g in t.guards],
                "gate": t.gate.__name__ if t.gate else None,
                "effects": [e.__name__ for e in t.effects],
                "help": str(t.help),
            }
            for t in workflow.TRANSITIONS
        ],
    }


def workflow_as_markdown() -> str:
    lines = [
        "# The opsdesk workflow",
        "",
        "Generated from `opsdesk/tickets/workflow.py` by `opsdesk workflow_docs`; do not edit.",
        "",
        "| action | from | to | who | requires | accepts | forces | only | gate / effects |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in workflow.TRANSITIONS:
        requires = ", ".join(
            f"{n.field.name} ({n.why})" if n.why else n.field.name for n in t.requires
        )
        forces = ", ".join(f"{r.field.name} = {r.value} ({r.why})" for r in t.forces)
        extras = [t.gate.__name__] if t.gate else []
        extras += [e.__name__ for e in t.effects]
        lines.append(
            f"| `{t.name}` {t.label} | {', '.join(t.sources)} | {_target(t)} "
            f"| {describe_actors(t.by)} | {requires} | {', '.join(x.name for x in t.accepts)} "
            f"| {forces} | {'; '.join(str(g.rule) for g in t.guards)} | {', '.join(extras)} |"
        )
    lines += _plan_fit_table() + _steps_table() + _registration_table()
    return "\n".join(lines) + "\n"


def _plan_fit_table() -> list[str]:
    kinds = list(PlanKind)
    lines = [
        "", "## Which plans the department head approves (tickets/risk.py)", "",
        "Besides the plan's own risk (changes code, major environment change, another "
        "department): a plan whose kind does not fit the problem's type needs",
        "", "| problem type | " + " | ".join(str(k.label) for k in kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for problem in ProblemType:
        cells = [str(risk.FIT_WORDS[risk.fit_of(problem, kind)]) for kind in kinds]
        lines.append(f"| {problem.label} | " + " | ".join(cells) + " |")
    return lines


def _steps_table() -> list[str]:
    lines = ["", "## Which executed steps a plan covers (tickets/risk.py)", "",
             "| plan kind | steps |", "|---|---|"]
    for kind in PlanKind:
        covered = [str(step.label) for step in StepKind if risk.covers(kind, step)]
        lines.append(f"| {kind.label} | {', '.join(covered)} |")
    return lines


def _registration_table() -> list[str]:
    lines = ["", "## What a report must hold, by door (tickets/registration.py)", "",
             "| source | channels | requires | carries |", "|---|---|---|---|"]
    for door in registration.DOORS:
        channels = ("(any)" if door.channels == frozenset(Channel)
                    else ", ".join(sorted(str(c) for c in door.channels)))
        requires = ", ".join(f"{r.field.name} ({r.why})" if r.why else r.field.name
                             for r in door.requires)
        lines.append(f"| {door.source} | {channels} | {requires} | {door.note} |")
    return lines
