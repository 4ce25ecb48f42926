"""Priority from impact and urgency, through a matrix the admin can edit.

The defaults follow the procedure's definitions: core business down for all users is urgent, a
main function broken for some users is high, a secondary defect is medium, a question is low;
urgency moves a problem one step up or down from there.
"""

from __future__ import annotations

from opsdesk.runtime import config
from opsdesk.tickets.choices import Impact, Priority, Urgency
from opsdesk.tickets.models import PriorityRule

U, H, M, L = Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW

DEFAULT_MATRIX: dict[Impact, dict[Urgency, Priority]] = {
    #                 immediate        high            normal          low
    Impact.ALL_USERS: {Urgency.IMMEDIATE: U, Urgency.HIGH: U, Urgency.NORMAL: H, Urgency.LOW: H},
    Impact.SOME_USERS: {Urgency.IMMEDIATE: U, Urgency.HIGH: H, Urgency.NORMAL: H, Urgency.LOW: M},
    Impact.FEW_USERS: {Urgency.IMMEDIATE: H, Urgency.HIGH: M, Urgency.NORMAL: M, Urgency.LOW: L},
    Impact.NONE: {Urgency.IMMEDIATE: M, Urgency.HIGH: L, Urgency.NORMAL: L, Urgency.LOW: L},
}


def priority_for(*, impact: str, urgency: str) -> Priority:
    """The priority the matrix gives; an admin-edited cell wins over the default."""
    stored = config.cached("priority_matrix", _edited_cells).get((impact, urgency))
    if stored is not None:
        return Priority(stored)
    return DEFAULT_MATRIX[Impact(impact)][Urgency(urgency)]


def _edited_cells() -> dict[tuple[str, str], int]:
    rows = PriorityRule.objects.order_by("-id").values_list("impact", "urgency", "priority")
    return {(impact, urgency): priority for impact, urgency, priority in rows}
