"""Every write of the notify app: notifying people, and managing teams and channels.

``notify`` is what other apps call. It decides who hears what through which channel, renders
each message in its reader's language and time zone, writes the Delivery rows inside the
caller's transaction and hands them to the worker only once that transaction commits: a
change that rolls back notifies nobody, and a committed one is never forgotten.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.notify.choices import ChannelKind, DeliveryStatus, NotificationKind
from opsdesk.notify.messages import Message, render
from opsdesk.notify.models import Channel, Delivery, Team
from opsdesk.runtime.tasks import enqueue_many
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import append_events

Recipient = User | Team
# Stakeholders may see that a status update went out; the rest is the department's business.
PUBLIC_KINDS = frozenset({NotificationKind.STATUS_UPDATE})


@dataclass(frozen=True)
class _Target:
    """One channel of one recipient."""

    user: User | None
    team: Team | None
    channel: Channel | None
    kind: str
    address: str
    language: str
    time_zone: str

    @property
    def name(self) -> str:
        return str(self.user or self.team)

    def dedupe_key(self, notification_key: str) -> str:
        who = f"user:{self.user.pk}" if self.user else f"team:{self.team.pk if self.team else ''}"
        via = f"channel:{self.channel.pk}" if self.channel else f"email:{self.address.lower()}"
        return hashlib.sha256(f"{notification_key}\n{who}\n{via}".encode()).hexdigest()


def _user_target(user: User, channel: Channel | None, kind: str, address: str) -> _Target:
    return _Target(user=user, team=None, channel=channel, kind=kind, address=address,
                   language=user.language, time_zone=user.time_zone)


def _user_targets(user: User, kind: str) -> list[_Target]:
    """A user's enabled channels that want ``kind``; a user who has enabled none is mailed."""
    if not user.is_active:
        return []
    channels = [channel for channel in user.notify_channels.all() if channel.enabled]
    if not channels:
        return [_user_target(user, None, ChannelKind.EMAIL, user.email)] if user.email else []
    return [
        _user_target(user, channel, channel.kind,
                     channel.target if channel.kind == ChannelKind.EMAIL else "")
        for channel in channels
        if channel.wants(kind)
    ]


def _team_targets(team: Team, kind: str) -> list[_Target]:
    """The team's own channels; a team without any is reached through each member."""
    channels = [channel for channel in team.channels.all() if channel.enabled]
    if not channels:
        return [target for member in team.members.all() for target in _user_targets(member, kind)]
    return [
        _Target(user=None, team=team, channel=channel, kind=channel.kind,
                address=channel.target if channel.kind == ChannelKind.EMAIL else "",
                language=team.language, time_zone=team.time_zone)
        for channel in channels
        if channel.wants(kind)
    ]


def targets_by_recipient(recipients: Iterable[Recipient], kind: str
                         ) -> dict[tuple[type, int], list[_Target]]:
    """Every channel each of ``recipients`` is reached by for ``kind``, read in a few queries."""
    users = [r for r in recipients if isinstance(r, User)]
    teams = [r for r in recipients if isinstance(r, Team)]
    prefetch_related_objects(users, "notify_channels")
    prefetch_related_objects(teams, "channels", "members__notify_channels")
    found: dict[tuple[type, int], list[_Target]] = {
        (User, user.pk): _user_targets(user, kind) for user in users}
    found.update({(Team, team.pk): _team_targets(team, kind) for team in teams})
    return found


def _timeline_data(kind: str, key: str, rows: Sequence[Delivery]) -> dict[str, Any]:
    people: dict[str, dict[str, Any]] = {}
    for row in rows:
        who = f"user:{row.recipient_id}" if row.recipient_id else f"team:{row.team_id}"
        entry = people.setdefault(who, {"name": row.recipient_name, "channels": []})
        if row.recipient_id:
            entry["user"] = row.recipient_id
        else:
            entry["team"] = row.team_id
        entry["channels"].append(row.channel_kind)
    return {"notification": kind, "key": key, "recipients": list(people.values())}


def _enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    from opsdesk.notify.tasks import deliver_all  # the task module imports this one

    if delivery_ids:
        enqueue_many(deliver_all, [(list(delivery_ids),)])


@dataclass(frozen=True)
class Notification:
    """One thing to tell: ``kind`` happened to ``ticket``; ``key`` names it for de-duplication
    and ``context`` fills the message's placeholders."""

    ticket: Ticket | None
    recipients: Sequence[Recipient | None]
    key: str
    context: Mapping[str, Any] = field(default_factory=dict)


@transaction.atomic
def notify(
    *, kind: str, ticket: Ticket | None, recipients: Iterable[Recipient | None],
    context: Mapping[str, Any] | None = None, dedupe_key: str, by: User | None = None,
) -> list[Delivery]:
    """Tell ``recipients`` (users and teams) that ``kind`` happened to ``ticket``.

    ``context`` fills the message's placeholders (``due_at``, ``clock``, ``reason``,
    ``message``, ``plan`` …; datetimes are shown in each reader's zone). ``dedupe_key`` names
    the notification: calling again with the same key sends nothing new. Returns the
    deliveries this call created; a timeline event on the ticket says who was notified.
    """
    notification = Notification(ticket, list(recipients), dedupe_key, context or {})
    return notify_each(kind=kind, notifications=[notification], by=by)


@transaction.atomic
def notify_each(*, kind: str, notifications: Sequence[Notification],
                by: User | None = None) -> list[Delivery]:
    """``notify`` for many tickets at once (those one alert storm opened): the recipients'
    channels are read once, each message is rendered once per reader, and the deliveries,
    timeline events and tasks are written in bulk."""
    kind = NotificationKind(kind)
    everyone = {(type(r), r.pk): r for n in notifications for r in n.recipients if r is not None}
    targets = targets_by_recipient(everyone.values(), kind)
    rows: dict[str, Delivery] = {}
    for notification in notifications:
        messages: dict[tuple[str, str], Message] = {}
        # Users first: someone reached directly and through a team gets the direct message.
        reached = sorted(dict.fromkeys((type(r), r.pk) for r in notification.recipients
                                       if r is not None), key=lambda who: who[0] is Team)
        for target in (t for who in reached for t in targets[who]):
            key = target.dedupe_key(notification.key)
            if key in rows:
                continue  # reached twice (directly and through a team): one message is enough
            reader = (target.language, target.time_zone)
            if reader not in messages:
                messages[reader] = render(
                    kind=kind, ticket=notification.ticket, context=dict(notification.context),
                    language=target.language, time_zone=target.time_zone)
            message = messages[reader]
            rows[key] = Delivery(
                notification_kind=kind, notification_key=notification.key[:200], dedupe_key=key,
                ticket=notification.ticket, recipient=target.user, team=target.team,
                recipient_name=target.name[:150], channel=target.channel,
                channel_kind=target.kind, address=target.address, language=message.language,
                subject=message.subject, body=message.body, next_attempt_at=timezone.now(),
            )
    if not rows:
        return []
    seen = set(Delivery.objects.filter(dedupe_key__in=rows).values_list("dedupe_key", flat=True))
    new_keys = [key for key in rows if key not in seen]
    # ignore_conflicts: a concurrent notify with the same key must not break the caller's
    # transaction; the unique dedupe key keeps one row.
    Delivery.objects.bulk_create([rows[key] for key in new_keys], ignore_conflicts=True)
    created = list(Delivery.objects.filter(dedupe_key__in=new_keys).order_by("id"))
    by_key: dict[str, list[Delivery]] = defaultdict(list)
    for row in created:
        by_key[row.notification_key].append(row)
    append_events([
        TimelineEvent(
            ticket=n.ticket, kind=TimelineEvent.Kind.NOTIFICATION, actor=by, at=timezone.now(),
            data=_timeline_data(kind, n.key, by_key[n.key[:200]]),
            internal=kind not in PUBLIC_KINDS,
        )
        for n in notifications
        if n.ticket is not None and by_key.get(n.key[:200])
    ])
    _enqueue_deliveries([row.pk for row in created])
    return created


@transaction.atomic
def retry_delivery(*, delivery_id: int) -> Delivery:
    """Give a failed or abandoned delivery one more attempt now (an operator's decision)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status in (DeliveryStatus.FAILED, DeliveryStatus.ABANDONED):
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "next_attempt_at"])
        _enqueue_deliveries([delivery.pk])
    return delivery


def create_team(
    *, name: str, members: Iterable[User] = (), language: str = "", time_zone: str = ""
) -> Team:
    """A team; ``language`` and ``time_zone`` default to the site's."""
    team = Team(name=name, language=language)
    if time_zone:
        team.time_zone = time_zone
    team.full_clean()
    team.save()
    team.members.set(list(members))
    return team


def add_channel(
    *, owner: Recipient, kind: str, target: str, kinds: Iterable[str] = (),
    enabled: bool = True,
) -> Channel:
    """A new way to reach ``owner``; the target is checked (and robot page URLs rewritten to
    apprise's form). Raises ValidationError for an unusable target."""
    channel = Channel(
        user=owner if isinstance(owner, User) else None,
        team=owner if isinstance(owner, Team) else None,
        kind=ChannelKind(kind), target=target, kinds=sorted(set(kinds)), enabled=enabled,
    )
    channel.full_clean()
    channel.save()
    return channel
