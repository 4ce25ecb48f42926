"""Tell people that an SLA threshold was reached, through the notify app: which deadline (the
due time itself, shown in each reader's zone) and how far along it the clock is."""

from __future__ import annotations

from opsdesk.accounts.models import User
from opsdesk.notify import services as notify
from opsdesk.sla import clocks
from opsdesk.sla.models import Clock, Notice

KIND_BY_THRESHOLD = {
    Notice.Threshold.WARNING: "sla_warning",
    Notice.Threshold.BREACH: "sla_breach",
    Notice.Threshold.SEVERE: "sla_breach",
}


def send(*, notice: Notice, clock: Clock, moment: clocks.Moment, recipients: list[User]) -> None:
    if not recipients:
        return
    notify.notify(
        kind=KIND_BY_THRESHOLD[Notice.Threshold(notice.threshold)],
        ticket=clock.ticket,
        recipients=recipients,
        context={
            "clock": notice.clock, "threshold": notice.threshold, "due_at": moment.due,
            # Rendered in each reader's language: "75% of the time used", "overdue by 4 hours".
            "used": clocks.warning_share(clock), "target": clocks.target_of(clock, notice.clock),
        },
        dedupe_key=f"sla:{clock.ticket_id}:{notice.clock}:{notice.threshold}",
    )
