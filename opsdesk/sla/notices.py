"""Tell people that an SLA threshold was reached, through the notify app."""

from __future__ import annotations

from datetime import datetime

from opsdesk.accounts.models import User
from opsdesk.notify import services as notify
from opsdesk.sla.models import Notice
from opsdesk.tickets.models import Ticket

KIND_BY_THRESHOLD = {
    Notice.Threshold.WARNING: "sla_warning",
    Notice.Threshold.BREACH: "sla_breach",
    Notice.Threshold.SEVERE: "sla_breach",
}


def send(*, notice: Notice, ticket: Ticket, due_at: datetime, recipients: list[User]) -> None:
    if not recipients:
        return
    notify.notify(
        kind=KIND_BY_THRESHOLD[Notice.Threshold(notice.threshold)],
        ticket=ticket,
        recipients=recipients,
        context={"clock": notice.clock, "threshold": notice.threshold, "due_at": due_at},
        dedupe_key=f"sla:{ticket.pk}:{notice.clock}:{notice.threshold}",
    )
