"""The life of one delivery attempt: claim it, then record that it was sent or why it failed.

Several tasks may be queued for one delivery (the scheduled retry, the sweep, an operator's
"retry now"); the claim is a compare-and-set on the attempt counter, so exactly one of them
sends and the others find nothing to do. The claim also moves ``next_attempt_at`` forward:
if the worker dies mid-send, the sweep retries the delivery when that moment has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from opsdesk.notify import conf
from opsdesk.notify.choices import DeliveryStatus
from opsdesk.notify.models import Delivery
from opsdesk.notify.senders import DeliveryFailed
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.services import record_event

logger = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
# A queue's clock and ours may differ by a little; a task that runs a moment early still counts.
DUE_TOLERANCE = timedelta(seconds=5)


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failure: 1, 2, 4, 8 … times the base, capped."""
    return min(conf.retry_base() * 2 ** max(attempt - 1, 0), conf.retry_cap())


@transaction.atomic
def claim_many(delivery_ids: Sequence[int]) -> list[Delivery]:
    """Those of the deliveries that are due and that nobody else took, in the given order,
    each counted as one more attempt: one write transaction for them all, one statement for
    those at the same attempt (a round's are all at their first)."""
    now = timezone.now()
    found = (Delivery.objects.select_related("channel", "ticket", "verification")
             .in_bulk(delivery_ids))
    due = [delivery for delivery in (found.get(i) for i in delivery_ids)
           if delivery is not None and delivery.status in OPEN
           and (delivery.next_attempt_at is None
                or delivery.next_attempt_at <= now + DUE_TOLERANCE)]
    alike: dict[tuple[str, int], list[Delivery]] = {}
    for delivery in due:
        alike.setdefault((delivery.status, delivery.attempts), []).append(delivery)
    won: set[int] = set()
    for (status, attempts), group in alike.items():
        ids, lease = [d.pk for d in group], now + backoff(attempts + 1)
        taken = Delivery.objects.filter(pk__in=ids, status=status, attempts=attempts).update(
            attempts=attempts + 1, next_attempt_at=lease)
        if taken == len(ids):
            won.update(ids)
        elif taken:
            # Another claimer took some at the same moment: ours are those with our lease.
            won.update(Delivery.objects.filter(pk__in=ids, attempts=attempts + 1,
                                               next_attempt_at=lease)
                       .values_list("pk", flat=True))
        for delivery in group:
            delivery.attempts, delivery.next_attempt_at = attempts + 1, lease
    return [delivery for delivery in due if delivery.pk in won]


@transaction.atomic
def record_outcomes(sent: Sequence[Delivery],
                    failed: Sequence[tuple[Delivery, DeliveryFailed]]) -> list[Delivery]:
    """Record a round of attempts in one write transaction (the sent ones in one statement);
    the failed deliveries, updated."""
    if sent:
        now = timezone.now()
        Delivery.objects.filter(pk__in=[d.pk for d in sent]).update(
            status=DeliveryStatus.SENT, sent_at=now, next_attempt_at=None, last_error="")
        for delivery in sent:
            delivery.status, delivery.sent_at = DeliveryStatus.SENT, now
            delivery.next_attempt_at, delivery.last_error = None, ""
            logger.info("Delivery %s sent (%s, attempt %s).", delivery.pk,
                        delivery.channel_kind, delivery.attempts)
    return [record_failure(delivery, failure) for delivery, failure in failed]


@transaction.atomic
def record_failure(delivery: Delivery, failure: DeliveryFailed) -> Delivery:
    """Mark the attempt failed: retry later with backoff, or give up after the last attempt
    (and say so on the ticket's timeline: a warning nobody received matters in a review)."""
    limit = conf.max_attempts()
    final = failure.final or delivery.attempts >= limit
    delivery.status = DeliveryStatus.ABANDONED if final else DeliveryStatus.FAILED
    delivery.last_error = failure.reason[:2000]
    delivery.next_attempt_at = None if final else timezone.now() + backoff(delivery.attempts)
    delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
    logger.warning("Delivery %s failed (%s, attempt %s of %s): %s", delivery.pk,
                   delivery.channel_kind, delivery.attempts, limit, delivery.last_error)
    if final and delivery.ticket is not None:
        record_event(
            ticket=delivery.ticket, kind=TimelineEvent.Kind.NOTIFICATION, actor=None,
            internal=True,
            data={"abandoned": {
                "notification": delivery.notification_kind, "key": delivery.notification_key,
                "recipient": delivery.recipient_name, "channel": delivery.channel_kind,
                "attempts": delivery.attempts, "error": delivery.last_error,
            }},
        )
    return delivery
