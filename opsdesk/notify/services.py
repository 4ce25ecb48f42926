"""Every write of the notify app: notifying people, managing teams and channels, people's
preferences, and who follows which ticket.

``notify`` is what other apps call. It decides through which channels each person hears a
kind of message (their choices per channel, quiet hours), renders each message in its
reader's language and time zone, writes the Delivery rows inside the caller's transaction and
hands them to the worker only once that transaction commits: a change that rolls back
notifies nobody, and a committed one is never forgotten. Who is told about what happens to a
ticket is decided in notify/conversation.py.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.notify import quiet
from opsdesk.notify.choices import (
    DEFAULT_WATCH_TOPICS,
    ChannelKind,
    DeliveryStatus,
    NotificationKind,
    WatchTopic,
)
from opsdesk.notify.messages import Message, reader_zone, render
from opsdesk.notify.models import (
    Channel,
    Delivery,
    Notice,
    Preferences,
    Team,
    VerificationLink,
    Watch,
)
from opsdesk.runtime import rows
from opsdesk.runtime.tasks import enqueue_many
from opsdesk.tickets import policy
from opsdesk.tickets.errors import InvalidField, NotFound
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import append_events

K = NotificationKind
FORGET_SLICE = 500  # notices deleted per statement by the retention sweep


@dataclass(frozen=True)
class Address:
    """Someone without an account, reached by mail: a ticket's external submitter. They read
    the site's language and time zone."""

    email: str
    name: str


Recipient = User | Team | Address
# What the submitter is told is hers to see on the ticket's timeline; stakeholders may see
# that a status update went out; the rest is the department's business.
PUBLIC_KINDS = frozenset({
    K.STATUS_UPDATE, K.RECEIVED, K.HANDLER_ASSIGNED, K.SENT_BACK, K.QUESTION, K.REPLY,
    K.PROGRESS, K.VERIFY, K.VERIFY_REMINDER, K.CLOSED, K.REOPENED,
})


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
    # An external recipient's name (users and teams are named by themselves).
    called: str = ""
    quiet_hours: tuple[time, time] | None = None

    @property
    def name(self) -> str:
        return str(self.user or self.team or self.called)

    def dedupe_key(self, notification_key: str) -> str:
        if self.user:
            who = f"user:{self.user.pk}"
        else:
            who = f"team:{self.team.pk}" if self.team else f"address:{self.address.lower()}"
        via = f"channel:{self.channel.pk}" if self.channel else f"email:{self.address.lower()}"
        return hashlib.sha256(f"{notification_key}\n{who}\n{via}".encode()).hexdigest()

    def held_until(self, kind: str, ticket: Ticket | None, now: datetime) -> datetime | None:
        """When a message of ``kind`` may go, if the reader's quiet hours hold it back."""
        if self.quiet_hours is None or quiet.is_urgent(kind, ticket):
            return None
        start, end = self.quiet_hours
        return quiet.quiet_until(start=start, end=end, zone=reader_zone(self.time_zone), now=now)


def preferences_of(user: User) -> Preferences | None:
    """``user``'s notification preferences, if they set any (read from a prefetch if made)."""
    return getattr(user, "notify_preferences", None)


def _user_target(user: User, channel: Channel | None, kind: str, address: str) -> _Target:
    prefs = preferences_of(user)
    return _Target(user=user, team=None, channel=channel, kind=kind, address=address,
                   language=user.language, time_zone=user.time_zone,
                   quiet_hours=prefs.quiet_hours if prefs is not None else None)


def _user_targets(user: User, kind: str) -> list[_Target]:
    """A user's enabled channels that want ``kind``; a user who has enabled none is mailed at
    the account's address, for the kinds they chose (all unless they chose)."""
    if not user.is_active:
        return []
    channels = [channel for channel in user.notify_channels.all() if channel.enabled]
    if not channels:
        prefs = preferences_of(user)
        if not user.email or (prefs is not None and not prefs.mails(kind)):
            return []
        return [_user_target(user, None, ChannelKind.EMAIL, user.email)]
    return [
        _user_target(user, channel, channel.kind,
                     channel.target if channel.kind == ChannelKind.EMAIL else "")
        for channel in channels
        if channel.wants(kind)
    ]


def _address_target(address: Address) -> _Target:
    return _Target(user=None, team=None, channel=None, kind=ChannelKind.EMAIL,
                   address=address.email, language="", time_zone="", called=address.name)


def identity(recipient: Recipient) -> tuple[str, object]:
    """Who ``recipient`` is, whatever their kind: users first, then addresses, then teams."""
    if isinstance(recipient, User):
        return ("0user", recipient.pk)
    if isinstance(recipient, Address):
        return ("1address", recipient.email.lower())
    return ("2team", recipient.pk)


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


def _read_channels(recipients: Sequence[Recipient]) -> None:
    """The channels and preferences of ``recipients`` and their teams' members, in a few
    queries."""
    users = [r for r in recipients if isinstance(r, User)]
    teams = [r for r in recipients if isinstance(r, Team)]
    prefetch_related_objects(users, "notify_channels", "notify_preferences")
    prefetch_related_objects(teams, "channels", "members__notify_channels",
                             "members__notify_preferences")


def _targets(recipient: Recipient, kind: str) -> list[_Target]:
    """Every channel ``recipient`` is reached by for ``kind`` (its channels read already)."""
    if isinstance(recipient, User):
        return _user_targets(recipient, kind)
    if isinstance(recipient, Team):
        return _team_targets(recipient, kind)
    return [_address_target(recipient)]


def _timeline_data(kind: str, key: str, deliveries: Sequence[Delivery]) -> dict[str, Any]:
    people: dict[str, dict[str, Any]] = {}
    ref: tuple[str, Any]
    for row in deliveries:
        if row.recipient_id:
            who, ref = f"user:{row.recipient_id}", ("user", row.recipient_id)
        elif row.team_id:
            who, ref = f"team:{row.team_id}", ("team", row.team_id)
        else:
            who, ref = f"address:{row.address.lower()}", ("address", row.address)
        entry = people.setdefault(who, {"name": row.recipient_name, "channels": [],
                                        ref[0]: ref[1]})
        entry["channels"].append(row.channel_kind)
        if row.next_attempt_at and row.next_attempt_at > row.created_at:
            entry["held_until"] = row.next_attempt_at.isoformat()  # quiet hours
    return {"notification": kind, "key": key, "recipients": list(people.values())}


def _enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    from opsdesk.notify.tasks import deliver_all  # the task module imports this one

    if delivery_ids:
        enqueue_many(deliver_all, [(list(delivery_ids),)])


def _enqueue_held(deliveries: Sequence[Delivery]) -> None:
    """Deliveries held by quiet hours: a task for the moment each quiet period ends, where the
    queue can defer; otherwise the sweep sends them once they are due."""
    from opsdesk.notify.tasks import deliver_all

    by_moment: dict[datetime, list[int]] = defaultdict(list)
    for row in deliveries:
        assert row.next_attempt_at is not None
        by_moment[row.next_attempt_at].append(row.pk)
    if by_moment and deliver_all.get_backend().supports_defer:
        enqueue_many(deliver_all, [(ids,) for ids in by_moment.values()],
                     run_after=list(by_moment))


def _in_app_readers(recipients: Iterable[Recipient | None]) -> list[User]:
    """The people who find a notification in their in-app list: the users it is for and the
    members of the teams it is for (active ones; addresses have no account to list it in)."""
    found: dict[int, User] = {}
    for recipient in recipients:
        members = recipient.members.all() if isinstance(recipient, Team) else [recipient]
        for user in members:
            if isinstance(user, User) and user.is_active:
                found.setdefault(user.pk, user)
    return list(found.values())


@dataclass(frozen=True)
class Notification:
    """One thing to tell: ``kind`` happened to ``ticket``; ``key`` names it for de-duplication
    and ``context`` fills the message's placeholders."""

    ticket: Ticket | None
    recipients: Sequence[Recipient | None]
    key: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # A fix to verify: its deliveries carry the one-click links of this row.
    verification: VerificationLink | None = None


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


@dataclass(frozen=True)
class Telling:
    """Notifications of one ``kind``, told on behalf of ``by`` (None: opsdesk itself)."""

    kind: str
    notifications: Sequence[Notification]
    by: User | None = None


def notify_each(*, kind: str, notifications: Sequence[Notification],
                by: User | None = None) -> list[Delivery]:
    """``notify`` for many tickets at once (those one alert storm opened): the recipients'
    channels are read once, each message is rendered once per reader, and the deliveries,
    timeline events and tasks are written in bulk."""
    return notify_all([Telling(kind, notifications, by)])


_gathering: ContextVar[list[Telling] | None] = ContextVar("notify_gathering", default=None)


@contextmanager
def gathered() -> Iterator[None]:
    """Within, ``tell`` gathers what it is given, and on leaving without an error everything
    gathered is written by one ``notify_all``: dispatching a batch of new tickets tells the
    assignees, the duty engineer and the submitters in one write rather than one per kind
    (tickets/hooks.py runs the creation hooks inside this)."""
    pending: list[Telling] = []
    token = _gathering.set(pending)
    try:
        yield
    finally:
        _gathering.reset(token)
    if pending:
        notify_all(pending)


def tell(*, kind: str, notifications: Sequence[Notification], by: User | None = None) -> None:
    """``notify_each``, at once or, inside ``gathered``, when it ends."""
    pending = _gathering.get()
    if pending is None:
        notify_each(kind=kind, notifications=notifications, by=by)
    else:
        pending.append(Telling(kind, list(notifications), by))


@transaction.atomic
def notify_all(tellings: Sequence[Telling]) -> list[Delivery]:
    """``notify_each`` for notifications of several kinds, written together."""
    now = timezone.now()
    everyone = {identity(r): r for t in tellings for n in t.notifications
                for r in n.recipients if r is not None}
    _read_channels(list(everyone.values()))
    targets: dict[tuple[tuple[str, object], str], list[_Target]] = {}
    deliveries: dict[str, Delivery] = {}
    notices: dict[tuple[int, str], Notice] = {}
    for telling in tellings:
        kind = NotificationKind(telling.kind)
        for notification in telling.notifications:
            messages: dict[tuple[str, str], Message] = {}

            def message_for(language: str, time_zone: str,
                            notification: Notification = notification,
                            messages: dict[tuple[str, str], Message] = messages,
                            kind: str = kind) -> Message:
                if (language, time_zone) not in messages:
                    messages[(language, time_zone)] = render(
                        kind=kind, ticket=notification.ticket,
                        context=dict(notification.context), language=language,
                        time_zone=time_zone)
                return messages[(language, time_zone)]

            # Users first: someone reached directly and through a team gets the direct message.
            reached = sorted(dict.fromkeys(identity(r) for r in notification.recipients
                                           if r is not None), key=lambda who: who[0])
            for who in reached:
                if (who, kind) not in targets:
                    targets[(who, kind)] = _targets(everyone[who], kind)
            for target in (t for who in reached for t in targets[(who, kind)]):
                key = target.dedupe_key(notification.key)
                if key in deliveries:
                    continue  # reached twice (directly and through a team): one message is enough
                message = message_for(target.language, target.time_zone)
                deliveries[key] = Delivery(
                    notification_kind=kind, notification_key=notification.key[:200],
                    dedupe_key=key, ticket=notification.ticket, recipient=target.user,
                    team=target.team, recipient_name=target.name[:150], channel=target.channel,
                    channel_kind=target.kind, address=target.address,
                    language=message.language, subject=message.subject, body=message.body,
                    created_at=now,
                    next_attempt_at=target.held_until(kind, notification.ticket, now) or now,
                    verification=notification.verification,
                )
            for user in _in_app_readers(notification.recipients):
                notices.setdefault((user.pk, notification.key), Notice(
                    recipient=user, kind=kind, key=notification.key[:200],
                    ticket=notification.ticket, actor=telling.by, created_at=now,
                    subject=message_for(user.language, user.time_zone).subject,
                ))
    # In opsdesk's own list at once, whatever the channels and quiet hours (nothing rings).
    rows.append(list(notices.values()), ignore_conflicts=True)
    # A key already notified (this call made again, or a concurrent one) keeps its one row
    # without breaking the caller's transaction.
    created = rows.insert_new(list(deliveries.values()), "dedupe_key")
    by_key: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for row in created:
        by_key[(row.notification_kind, row.notification_key)].append(row)
    append_events([
        TimelineEvent(
            ticket=n.ticket, kind=TimelineEvent.Kind.NOTIFICATION, actor=t.by,
            at=timezone.now(), data=_timeline_data(t.kind, n.key, by_key[(t.kind, n.key[:200])]),
            internal=t.kind not in PUBLIC_KINDS,
        )
        for t in tellings for n in t.notifications
        if n.ticket is not None and by_key.get((t.kind, n.key[:200]))
    ])
    _enqueue_deliveries([row.pk for row in created
                         if row.next_attempt_at is None or row.next_attempt_at <= now])
    _enqueue_held([row for row in created if row.next_attempt_at and row.next_attempt_at > now])
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


def set_preferences(
    *, user: User, email_kinds: Iterable[str] | None, quiet_start: time | None,
    quiet_end: time | None, channel_kinds: Mapping[int, Iterable[str]] | None = None,
) -> Preferences:
    """Save ``user``'s choices: the kinds mailed to the account address (None: all), quiet
    hours (both or neither), and for each of their own channels (by id) the kinds it carries
    (a channel that carries none is turned off). Raises ValidationError naming the problem."""
    prefs = Preferences.objects.filter(user=user).first() or Preferences(user=user)
    prefs.quiet_start, prefs.quiet_end = quiet_start, quiet_end
    prefs.email_kinds = None if email_kinds is None else sorted(set(email_kinds))
    prefs.full_clean()
    channels = {c.pk: c for c in user.notify_channels.all()}
    with transaction.atomic():
        prefs.save()
        for channel_id, kinds in (channel_kinds or {}).items():
            channel = channels.get(channel_id)
            if channel is None:
                continue  # someone else's, or deleted meanwhile
            chosen = sorted(set(kinds))
            channel.enabled = bool(chosen)
            # Every kind chosen is stored as "all", so that new kinds reach it too.
            channel.kinds = [] if set(chosen) >= set(NotificationKind.values) else chosen
            if channel.enabled:
                channel.full_clean()
            channel.save(update_fields=["enabled", "kinds"])
    return prefs


def watch_ticket(*, ticket: Ticket, by: User, topics: Iterable[str] | None = None) -> Watch:
    """Follow ``ticket`` (which ``by`` must be able to see) for ``topics`` (by default all but
    links); following again changes the topics."""
    if not policy.can_view(by, ticket):
        raise NotFound(_("No such ticket."))
    chosen = sorted(set(DEFAULT_WATCH_TOPICS if topics is None else topics))
    unknown = set(chosen) - set(WatchTopic.values)
    if unknown:
        raise InvalidField(
            _("Unknown topics: %(topics)s (choose from %(known)s).")
            % {"topics": ", ".join(sorted(unknown)), "known": ", ".join(WatchTopic.values)},
            field="topics")
    if not chosen:
        raise InvalidField(
            _("Choose at least one topic to follow, or stop following the ticket."),
            field="topics")
    watch, _new = Watch.objects.update_or_create(
        ticket=ticket, user=by, defaults={"topics": chosen})
    return watch


def unwatch_ticket(*, ticket: Ticket, by: User) -> bool:
    """Stop following ``ticket``; whether ``by`` was following it."""
    deleted, _rows = Watch.objects.filter(ticket=ticket, user=by).delete()
    return bool(deleted)



def mark_notices_read(*, user: User, notice_ids: Iterable[int] | None = None,
                      ticket: Ticket | None = None) -> int:
    """Mark ``user``'s unread in-app notifications read: those of ``notice_ids``, those about
    ``ticket``, or all of them when neither is given. Another person's are never touched.
    Returns how many were marked."""
    unread = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if notice_ids is not None:
        unread = unread.filter(pk__in=list(notice_ids))
    if ticket is not None:
        unread = unread.filter(ticket=ticket)
    # Read first: a ticket page marks its notices read on every view, and an UPDATE takes
    # SQLite's write lock even when it matches nothing.
    if not unread.exists():
        return 0
    return unread.update(read_at=timezone.now())


def forget_read_notices(*, now: datetime | None = None) -> int:
    """Periodic: delete in-app notifications read more than ``OPSDESK_NOTICE_DAYS`` ago (0:
    keep them all), so that years of them do not pile up; unread ones stay until read, and
    what happened stays on each ticket's timeline. Returns how many were deleted."""
    days = settings.OPSDESK_NOTICE_DAYS
    if not days:
        return 0
    read_before = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:  # in slices, so that the write lock is never held for long
        slice_ids = list(Notice.objects.filter(read_at__lt=read_before)
                         .order_by("pk").values_list("pk", flat=True)[:FORGET_SLICE])
        if not slice_ids:
            return deleted
        deleted += Notice.objects.filter(pk__in=slice_ids).delete()[0]
