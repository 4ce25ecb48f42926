"""Background work of the notify app: sending a delivery, and the sweep that finds deliveries
whose scheduled attempt was lost.

Retries are scheduled as tasks for their due moment when the backend can defer (the database
backend can); the sweep is the safety net behind them, and the only retry mechanism on a
backend that cannot defer (the immediate backend used in tests).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks import task

from opsdesk.notify import attempts, senders
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery

logger = logging.getLogger(__name__)

# The sweep leaves alone what is only just due: its scheduled task is probably about to run.
SWEEP_GRACE = timedelta(minutes=2)


# Deliveries claimed, and then recorded, together: a round takes two write transactions
# instead of two for each delivery (on SQLite every one of them waits for, and holds up, the
# desk's other writers). Should the worker die in the middle of a round, what it had sent is
# sent again once the round's lease has passed: at most this many messages twice.
ROUND = 10


@task()
def deliver(delivery_id: int) -> str:
    """Send delivery ``delivery_id`` if it is due and unsent; on failure schedule the next
    attempt with exponential backoff, or abandon it after the last. Returns what happened."""
    return _deliver_round([delivery_id]).get(delivery_id, "skipped")


@task()
def deliver_all(delivery_ids: list[int]) -> dict[str, int]:
    """Send the deliveries one round of notifications created, each as ``deliver`` does: one
    task for all of them rather than one each, as a busy hour or a storm creates hundreds and
    the queue's own work per task outweighs most sends. One that breaks unexpectedly is
    logged and left to the sweep; the others still go."""
    outcomes: Counter[str] = Counter()
    for start in range(0, len(delivery_ids), ROUND):
        chunk = delivery_ids[start:start + ROUND]
        try:
            done = _deliver_round(chunk)
        except Exception:
            logger.exception("Deliveries %s broke; the sweep will try them again.", chunk)
            done = {}
        outcomes.update(done.get(delivery_id, "broken") for delivery_id in chunk)
    return dict(outcomes)


def _deliver_round(delivery_ids: list[int]) -> dict[int, str]:
    """Claim, send and record ``delivery_ids``; what happened to each."""
    outcomes = {delivery_id: "skipped" for delivery_id in delivery_ids}
    sent: list[Delivery] = []
    failed: list[tuple[Delivery, senders.DeliveryFailed]] = []
    for delivery in attempts.claim_many(delivery_ids):
        try:
            senders.send(delivery)
        except senders.DeliveryFailed as failure:
            failed.append((delivery, failure))
        except Exception:
            # Claimed and unsent: its lease runs out and the sweep tries it again.
            logger.exception("Delivery %s broke; the sweep will try it again.", delivery.pk)
            outcomes[delivery.pk] = "broken"
        else:
            sent.append(delivery)
    for delivery in attempts.record_outcomes(sent, failed):
        outcomes[delivery.pk] = str(delivery.status)
        if delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is not None:
            _schedule(delivery.pk, delivery.next_attempt_at)
    outcomes.update((delivery.pk, str(DeliveryStatus.SENT)) for delivery in sent)
    return outcomes


def _schedule(delivery_id: int, when: datetime) -> None:
    if not deliver.get_backend().supports_defer:
        return  # retry_due_deliveries() will pick it up
    try:
        deliver.using(run_after=when).enqueue(delivery_id)
    except Exception:
        # The row is already marked failed with its due moment: the sweep will retry it.
        logger.exception("Could not schedule the retry of delivery %s.", delivery_id)


def retry_due_deliveries(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Enqueue every pending or failed delivery whose next attempt is overdue: those whose
    task was lost (enqueueing failed after commit, a queue emptied by a restart, a worker
    killed mid-send). Safe to call any time, from a periodic sweep; returns how many."""
    cutoff = (now or timezone.now()) - SWEEP_GRACE
    due = list(
        Delivery.objects.filter(status__in=attempts.OPEN, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        deliver.enqueue(delivery_id)
    return len(due)
