"""Background work for SLA: a timer per ticket at its next threshold (the safety sweep runs
in the worker's periodic jobs, opsdesk/runtime/periodic.py)."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task

from opsdesk.runtime.tasks import enqueue_with_transaction


@task()
def check_ticket_sla(ticket_id: int) -> int:
    """Timer: fire what is due for one ticket. It re-reads the clock, so a timer for a clock
    that stopped in time, or moved, does nothing."""
    from opsdesk.sla.services import check_thresholds  # services enqueue this task

    return len(check_thresholds(ticket_id=ticket_id))


def schedule_check(*, ticket_id: int, at: datetime) -> None:
    """Enqueue the timer with the clock change."""
    enqueue_with_transaction(lambda: check_ticket_sla.using(run_after=at).enqueue(ticket_id))
