"""Every write of post-incident reviews: a review started (its timeline summary generated from
the ticket), edited while a draft, its summary generated again, completed; action items added
with an owner and a due date (the owner is told) and marked done or not done. Each runs in one
transaction with the review locked, checks the review's version where a person edits what
they read, leaves an internal event on the ticket's timeline and rewrites the ticket's search
document, in which the review's text is found by department staff."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_user_by_ref
from opsdesk.bounds import MomentOutOfRange, check_moment
from opsdesk.knowledge.services import reindex_tickets
from opsdesk.notify import services as notify
from opsdesk.notify.choices import NotificationKind
from opsdesk.reviews import selectors, summary
from opsdesk.reviews.models import ActionItem, Review
from opsdesk.tickets.choices import Status
from opsdesk.tickets.errors import (
    InvalidField,
    MissingFields,
    NotFound,
    PermissionRefused,
    ReadOnlyTicket,
    StaleVersion,
    TransitionRefused,
)
from opsdesk.tickets.hooks import TicketChange
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import record_event

TEXTS = ("timeline_summary", "root_cause", "went_well", "went_badly")
MAX_TEXT = 20_000


def _labels() -> dict[str, str]:
    return {"timeline_summary": _("timeline summary"), "root_cause": _("root cause"),
            "went_well": _("what went well"), "went_badly": _("what went badly")}


def _ticket(ticket_id: int, by: User) -> Ticket:
    ticket = Ticket.objects.select_related("assignee").filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("No such ticket."))
    selectors.require_read(by, ticket)
    return ticket


def _writable(ticket: Ticket) -> None:
    if ticket.status == Status.ARCHIVED:
        raise ReadOnlyTicket(_("%(key)s is %(status)s and can no longer be changed.")
                             % {"key": ticket.key, "status": ticket.get_status_display()})


def _locked(ticket: Ticket, version: int | None) -> Review:
    review = Review.objects.select_for_update().filter(ticket=ticket).first()
    if review is None:
        raise NotFound(_("%s has no post-incident review yet.") % ticket.key)
    if version is not None and version != review.version:
        raise StaleVersion(
            _("The review of %(key)s was changed by someone else (version %(theirs)s, you had "
              "%(yours)s). Reload it and try again.")
            % {"key": ticket.key, "theirs": review.version, "yours": version},
            current_version=review.version)
    return review


def _draft(review: Review, ticket: Ticket) -> None:
    if review.is_complete:
        raise TransitionRefused(_("The review of %s is complete and can no longer be changed.")
                                % ticket.key)


def _texts(fields: Mapping[str, Any]) -> dict[str, str]:
    unknown = sorted(set(fields) - set(TEXTS))
    if unknown:
        raise InvalidField(_("A review does not take: %s.") % ", ".join(unknown),
                           fields=unknown)
    values = {}
    for name, value in fields.items():
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise InvalidField(_("%(field)s: at most %(n)d characters of text.")
                               % {"field": _labels()[name], "n": MAX_TEXT}, field=name)
        values[name] = value.strip()
    return values


def _event(ticket: Ticket, by: User | None, action: str, at: datetime, **data: Any) -> None:
    record_event(ticket=ticket, kind=TimelineEvent.Kind.REVIEW, actor=by, internal=True,
                 at=at, data={"action": action, **data})


def _saved(review: Review, now: datetime) -> Review:
    review.version += 1
    review.updated_at = now
    review.save()
    reindex_tickets(ticket_ids=[review.ticket_id])
    return review


@transaction.atomic
def start_review(*, ticket_id: int, by: User, fields: Mapping[str, Any] | None = None) -> Review:
    """Start the ticket's review, its timeline summary generated from the ticket unless
    ``fields`` give one."""
    ticket = _ticket(ticket_id, by)
    _writable(ticket)
    values = _texts(fields or {})
    Ticket.objects.select_for_update().filter(pk=ticket.pk).first()  # one review, one writer
    if Review.objects.filter(ticket=ticket).exists():
        raise TransitionRefused(_("%s already has a post-incident review: edit it.")
                                % ticket.key)
    now = timezone.now()
    values.setdefault("timeline_summary", summary.generate(ticket))
    review = Review.objects.create(ticket=ticket, author=by, created_at=now, updated_at=now,
                                   **values)
    _event(ticket, by, "started", now)
    reindex_tickets(ticket_ids=[ticket.pk])
    return review


@transaction.atomic
def update_review(*, ticket_id: int, by: User, version: int,
                  fields: Mapping[str, Any]) -> Review:
    """Change a draft review's texts (those given)."""
    ticket = _ticket(ticket_id, by)
    _writable(ticket)
    review = _locked(ticket, version)
    _draft(review, ticket)
    values = _texts(fields)
    changed = sorted(name for name, value in values.items() if getattr(review, name) != value)
    if not changed:
        return review
    for name in changed:
        setattr(review, name, values[name])
    now = timezone.now()
    _event(ticket, by, "edited", now, fields=changed)
    return _saved(review, now)


@transaction.atomic
def regenerate_summary(*, ticket_id: int, by: User, version: int) -> Review:
    """Generate a draft's timeline summary again from the ticket as it is now."""
    ticket = _ticket(ticket_id, by)
    _writable(ticket)
    review = _locked(ticket, version)
    _draft(review, ticket)
    review.timeline_summary = summary.generate(ticket)
    now = timezone.now()
    _event(ticket, by, "edited", now, fields=["timeline_summary"])
    return _saved(review, now)


@transaction.atomic
def complete_review(*, ticket_id: int, by: User, version: int) -> Review:
    """Complete the review of a closed ticket: every text written. Its text is then final,
    and the ticket may be archived."""
    ticket = _ticket(ticket_id, by)
    _writable(ticket)
    if not selectors.may_complete(by, ticket):
        raise PermissionRefused(_("Only the assignee, the duty engineer or the head may "
                                  "complete a review."))
    review = _locked(ticket, version)
    _draft(review, ticket)
    if ticket.status != Status.CLOSED:
        raise TransitionRefused(_("%(key)s is %(status)s: a review is completed once the "
                                  "ticket is closed.")
                                % {"key": ticket.key, "status": ticket.get_status_display()})
    missing = [name for name in TEXTS if not getattr(review, name).strip()]
    if missing:
        raise MissingFields(_("The review needs: %s.")
                            % ", ".join(_labels()[name] for name in missing), missing=missing)
    now = timezone.now()
    review.completed_at, review.completed_by = now, by
    _event(ticket, by, "completed", now,
           action_items=review.action_items.count())
    return _saved(review, now)


def _due(value: datetime | str | None, now: datetime) -> datetime:
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        raise InvalidField(_("The due date is required (a date and time)."), field="due_at")
    try:
        moment = check_moment(moment)
    except MomentOutOfRange as refusal:
        raise InvalidField(str(refusal), field="due_at") from refusal
    if moment <= now:
        raise InvalidField(_("The due date must be in the future."), field="due_at")
    return moment


@transaction.atomic
def add_action_item(*, ticket_id: int, by: User, title: str, owner: str,
                    due_at: datetime | str | None) -> ActionItem:
    """Add an action item to a draft review: what, who owns it (department staff, by username
    or id), by when. The owner is told."""
    ticket = _ticket(ticket_id, by)
    _writable(ticket)
    review = _locked(ticket, None)
    _draft(review, ticket)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidField(_("Say what is to be done."), field="title")
    if len(title) > 300:
        raise InvalidField(_("An action's title is at most 300 characters."), field="title")
    person = get_user_by_ref(owner.strip()) if owner and owner.strip() else None
    if person is None or not person.is_active or not person.is_department_staff:
        raise InvalidField(_("The owner must be a member of the department's staff: %s.")
                           % (owner or "—"), field="owner")
    now = timezone.now()
    item = ActionItem.objects.create(review=review, title=title, owner=person,
                                     due_at=_due(due_at, now), created_by=by, created_at=now)
    _event(ticket, by, "action_added", now, item=item.pk, title=title,
           owner={"id": person.pk, "username": person.username, "name": str(person)},
           due_at=item.due_at.isoformat())
    _saved(review, now)
    if person.pk != by.pk:
        notify.notify(kind=NotificationKind.ACTION_ITEM, ticket=ticket, recipients=[person],
                      context={"action": title, "due_at": item.due_at, "actor": str(by)},
                      dedupe_key=f"action-item:{item.pk}", by=by)
    return item


@transaction.atomic
def mark_action_item(*, ticket_id: int, item_id: int, by: User, done: bool,
                     note: str = "") -> ActionItem:
    """Mark an action item done (with what was done) or not done again: its owner, or those
    who complete reviews; also once the ticket is archived, the work going on after it. The
    owner need not read the ticket otherwise (a developer not pulled into it)."""
    item = (ActionItem.objects.select_for_update().select_related("review__ticket")
            .filter(pk=item_id, review__ticket_id=ticket_id).first())
    if item is None:
        raise NotFound(_("No such action item."))
    ticket = item.review.ticket
    if item.owner_id != by.pk:
        selectors.require_read(by, ticket)
    if not selectors.may_mark(by, item, ticket):
        raise PermissionRefused(_("Only the action's owner, the assignee, the duty engineer or "
                                  "the head may do this."))
    if done == (item.done_at is not None):
        return item
    now = timezone.now()
    item.done_at, item.done_by = (now, by) if done else (None, None)
    item.done_note = note.strip()[:MAX_TEXT] if done else ""
    item.save()
    _event(ticket, by, "action_done" if done else "action_reopened", now, item=item.pk,
           title=item.title, note=item.done_note)
    return item


def reopen_review_of(change: TicketChange) -> None:
    """The tickets hook: a ticket reopened makes its complete review a draft again, to be
    completed with what happened since before the ticket is archived."""
    if change.action != "reopen":
        return
    updated = Review.objects.filter(ticket=change.ticket, completed_at__isnull=False).update(
        completed_at=None, completed_by=None, version=F("version") + 1)
    if updated:
        _event(change.ticket, None, "reopened", change.at)


def review_texts(ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    """The words of the reviews of these tickets, for their search documents."""
    texts: dict[int, list[str]] = defaultdict(list)
    for row in Review.objects.filter(ticket_id__in=ticket_ids).values("ticket_id", *TEXTS):
        texts[row["ticket_id"]] += [row[name] for name in TEXTS]
    for ticket_id, title in (ActionItem.objects.filter(review__ticket_id__in=ticket_ids)
                             .values_list("review__ticket_id", "title")):
        texts[ticket_id].append(title)
    return texts
