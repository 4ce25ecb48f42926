"""The workflow table rendered for people (Markdown) and machines (JSON)."""

from __future__ import annotations

from typing import Any

from opsdesk.tickets import workflow
from opsdesk.tickets.choices import Status
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
        "| action | from | to | who | requires | accepts | forces | gate / effects |",
        "|---|---|---|---|---|---|---|---|",
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
            f"| {forces} | {', '.join(extras)} |"
        )
    return "\n".join(lines) + "\n"
