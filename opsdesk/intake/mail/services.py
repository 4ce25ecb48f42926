"""Every write of mail intake. A message is stored raw and committed first; then, in one
transaction with its "processed" mark, it becomes a ticket (a new problem), a comment (a reply
from someone allowed to comment), or nothing (a machine's mail, a duplicate). What cannot be
used is quarantined with the reason, for an administrator to inspect and replay."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.accounts.selectors import get_user_by_email
from opsdesk.errors import DomainError
from opsdesk.intake.errors import MailQuarantined
from opsdesk.intake.mail.models import MailMessage, MailOutcome
from opsdesk.intake.mail.parsing import MailAttachment, ParsedMail, parse, storable_text
from opsdesk.intake.mail.replies import answered_ticket_number, reply_text, strip_prefixes
from opsdesk.intake.models import InboundMessage, InboundStatus
from opsdesk.tickets import selectors as ticket_selectors
from opsdesk.tickets import services as tickets
from opsdesk.tickets.choices import Channel, Impact, Urgency
from opsdesk.tickets.dispatch import dispatch
from opsdesk.tickets.errors import AttachmentTooLarge
from opsdesk.tickets.fields import LONG_TEXT_MAX
from opsdesk.tickets.models import Comment, Ticket, TimelineEvent

log = logging.getLogger(__name__)

CHANNEL = Channel.EMAIL
CONTENT_TYPE = "message/rfc822"
# What is kept of a message over OPSDESK_MAIL_MAX_BYTES: enough to see who sent what.
HEAD_BYTES = 65536


@dataclass(frozen=True)
class Delivered:
    """What became of one message: the stored row and the result (or the quarantine reason)."""

    message: InboundMessage
    result: dict[str, Any]

    @property
    def status(self) -> str:
        return self.message.status


def store(*, raw: bytes, source: str) -> InboundMessage:
    """Keep the message exactly as received, committed before anything else happens."""
    with transaction.atomic():
        return InboundMessage.objects.create(
            integration=None, channel=CHANNEL, body=raw, content_type=CONTENT_TYPE,
            remote_addr=source[:64],
        )


def receive(*, raw: bytes, source: str) -> Delivered:
    """Store a message and use it; see receive_many."""
    return receive_many([raw], source=source)[0]


def receive_many(raws: Sequence[bytes], *, source: str) -> list[Delivered]:
    """Store messages exactly as received and use them, in one transaction: each is committed,
    with what became of it, before the sender is answered (the mail server's exit status, the
    IMAP mark); a crash before the commit answers nothing, so the sender tries again. Never
    raises for a message's content: a problem ends as a quarantined or failed message, kept
    for replay."""
    mails = [_parse_or_none(raw) for raw in raws]  # before taking SQLite's write lock
    delivered: dict[int, Delivered] = {}
    with transaction.atomic():
        later = NewTickets()
        for raw, mail in zip(raws, mails, strict=True):
            message = InboundMessage.objects.create(
                integration=None, channel=CHANNEL, body=raw, content_type=CONTENT_TYPE,
                remote_addr=source[:64],
            )
            if mail is not None and later.answered_by(mail):
                delivered.update(later.open())  # its ticket first, then the reply
            result = _receive_one(message, mail, later)
            if result is not None:
                delivered[message.pk] = Delivered(message, result)
        delivered.update(later.open())
    return sorted(delivered.values(), key=lambda d: d.message.pk)


def _receive_one(message: InboundMessage, mail: ParsedMail | None,
                 later: NewTickets) -> dict[str, Any] | None:
    """What became of one message, or None when its ticket is left to ``later``."""
    try:
        return _process(message, mail, later)
    except DomainError as error:
        return {"quarantined": error.message}
    except Exception as error:  # recorded on the message as failed; kept for replay
        log.exception("mail intake: message #%s failed", message.pk)
        return {"failed": _described(error)}


@dataclass
class _NewProblem:
    message: InboundMessage
    record: MailMessage
    mail: ParsedMail
    spec: dict[str, Any]
    files: list[MailAttachment]


class NewTickets:
    """The new problems of one import batch, opened together: one bulk creation instead of
    one per message (routing, clocks and notifications done for all at once)."""

    def __init__(self) -> None:
        self._waiting: list[_NewProblem] = []

    def add(self, problem: _NewProblem) -> None:
        self._waiting.append(problem)

    def answered_by(self, mail: ParsedMail) -> bool:
        """Whether ``mail`` replies to a message still waiting here for its ticket."""
        waiting = {p.mail.message_id for p in self._waiting}
        return any(reference in waiting for reference in mail.references)

    def open(self) -> dict[int, Delivered]:
        """Open the waiting problems' tickets and mark their messages processed. Should the
        batch fail as a whole, each is opened on its own, so one bad message fails alone."""
        waiting, self._waiting = self._waiting, []
        if not waiting:
            return {}
        try:
            with transaction.atomic():
                opened = tickets.create_tickets(by=None, specs=[p.spec for p in waiting])
                # Dispatched with the batch, not one by one as their attachments and the
                # replies that follow them would each dispatch their own ticket.
                dispatch(opened)
                return {p.message.pk: Delivered(p.message, _opened(p, ticket))
                        for p, ticket in zip(waiting, opened, strict=True)}
        except Exception:
            log.exception("mail intake: opening %d tickets together failed; one by one now",
                          len(waiting))
        return {p.message.pk: Delivered(p.message, _open_alone(p)) for p in waiting}


def _opened(problem: _NewProblem, ticket: Ticket) -> dict[str, Any]:
    record = problem.record
    record.ticket = ticket
    record.save(update_fields=["ticket"])
    skipped = _attach(ticket, problem.files, ticket.submitter, comment=None)
    result = {"ticket": ticket.key, "attachments": len(problem.files) - len(skipped),
              "skipped_attachments": skipped, "sent_at": _sent_at(problem.mail, problem.message)}
    problem.message.finish(InboundStatus.PROCESSED, result=result)
    return result


def _open_alone(problem: _NewProblem) -> dict[str, Any]:
    try:
        with transaction.atomic():
            return _opened(problem, tickets.create_ticket(by=None, **problem.spec))
    except Exception as error:
        log.exception("mail intake: message #%s failed", problem.message.pk)
        problem.record.delete()  # unclaimed again, as if never used: a replay opens it
        problem.message.finish(InboundStatus.FAILED, error=_described(error))
        return {"failed": _described(error)}


def _described(error: BaseException) -> str:
    """An error as an administrator reads it on the message: short, without the control
    characters (NUL) or undecoded bytes a message's content may have put in it, which a
    database cannot store as text."""
    return storable_text(f"{type(error).__name__}: {error}"[:2000])


def _parse_or_none(raw: bytes) -> ParsedMail | None:
    try:
        return parse(raw)
    except Exception:  # parsed again in process_message, where the failure is recorded
        return None


def _readable(message: InboundMessage) -> ParsedMail:
    """The stored message, parsed; one the parser cannot read at all is quarantined with the
    parser's error (kept for replay once the parser has learnt to read it)."""
    try:
        return parse(bytes(message.body))
    except Exception as error:
        log.warning("mail intake: message #%s cannot be parsed", message.pk, exc_info=True)
        raise MailQuarantined(_("The message cannot be read: %(error)s")
                              % {"error": _described(error)}) from error


def quarantine_oversized(*, size: int, source: str, head: bytes) -> Delivered:
    """Record a message too large to take (its first bytes only), for an administrator to see;
    the whole message stays where it came from."""
    source = storable_text(source)  # a file's path may hold bytes that are not UTF-8
    message = store(raw=head, source=source)
    problem = _("The message is %(size)d bytes, more than OPSDESK_MAIL_MAX_BYTES (%(limit)d); "
                "only its first %(kept)d bytes are kept here, the whole message stays at "
                "%(source)s.") % {"size": size, "limit": settings.OPSDESK_MAIL_MAX_BYTES,
                                  "kept": len(head), "source": source}
    message.finish(InboundStatus.QUARANTINED, error=problem)
    return Delivered(message, {"quarantined": problem})


def process_message(*, message: InboundMessage, mail: ParsedMail | None = None
                    ) -> dict[str, Any]:
    """Use a stored message (``mail`` is its content, when already parsed). Its effects and
    its mark commit together, so a crash leaves it either wholly used or still "received".
    MailQuarantined (marked quarantined) and any other error (marked failed) are re-raised
    after the mark is saved."""
    result = _process(message, mail, None)
    assert result is not None  # without a batch, a new problem's ticket is opened at once
    return result


def _process(message: InboundMessage, mail: ParsedMail | None,
             later: NewTickets | None) -> dict[str, Any] | None:
    """process_message; a new problem is left to ``later`` when given (None returned): its
    ticket is opened, and the message marked, with the rest of the batch."""
    message.attempts += 1
    try:
        with transaction.atomic():
            result = _use(mail or _readable(message), message, later)
            if result is None:
                return None
            message.finish(InboundStatus.PROCESSED, result=result)
    except MailQuarantined as error:
        log.info("mail intake: message #%s quarantined: %s", message.pk, error.message)
        message.finish(InboundStatus.QUARANTINED, error=error.message)
        raise
    except Exception as error:
        message.finish(InboundStatus.FAILED, error=_described(error))
        raise
    return result


def _use(mail: ParsedMail, message: InboundMessage,
         later: NewTickets | None) -> dict[str, Any] | None:
    record = _claim(mail, message)
    if record is None:
        first = MailMessage.objects.select_related("ticket").get(identity=mail.identity)
        return {"duplicate_of": first.inbound_id,
                "ticket": first.ticket.key if first.ticket else None}
    if mail.automatic:
        record.outcome = MailOutcome.IGNORED
        record.save(update_fields=["outcome"])
        return {"ignored": mail.automatic}
    if not mail.sender_email or "@" not in mail.sender_email:
        raise MailQuarantined(_("The message has no sender address."))
    sender = get_user_by_email(mail.sender_email)
    number = answered_ticket_number(mail.subject, mail.references)
    if number is not None:
        return _comment(mail, message, record, sender, number)
    problem = _new_problem(mail, message, record, sender)
    if later is None:
        return _opened(problem, tickets.create_ticket(by=None, **problem.spec))
    later.add(problem)
    return None


def _claim(mail: ParsedMail, message: InboundMessage) -> MailMessage | None:
    """This message's record, or None when a message with its identity was used before. The
    unique identity makes a concurrent twin wait for this transaction, then find it."""
    try:
        with transaction.atomic():
            return MailMessage.objects.create(
                inbound=message, identity=mail.identity, message_id=mail.message_id[:255],
                sender=mail.sender_email[:255], subject=mail.subject[:255],
                outcome=MailOutcome.TICKET,
            )
    except IntegrityError:
        return None


def _sent_at(mail: ParsedMail, message: InboundMessage) -> str:
    """When the mail says it was sent (its Date, when usable), else when it arrived."""
    return mail.sent_time(arrived=message.received_at).isoformat()


def _sender_label(mail: ParsedMail) -> str:
    if mail.sender_name and mail.sender_name.lower() != mail.sender_email:
        return f"{mail.sender_name} <{mail.sender_email}>"
    return mail.sender_email


def may_open_tickets(address: str) -> bool:
    """Whether someone without an account may open a ticket by mail from ``address``."""
    allowed = settings.OPSDESK_MAIL_ALLOWED_DOMAINS
    domain = address.rpartition("@")[2].lower()
    return "*" in allowed or domain in allowed


def _new_problem(mail: ParsedMail, message: InboundMessage, record: MailMessage,
                 sender: User | None) -> _NewProblem:
    if sender is None and not may_open_tickets(mail.sender_email):
        raise MailQuarantined(
            _("%(sender)s has no opsdesk account and the domain is not allowed to open "
              "tickets by mail (OPSDESK_MAIL_ALLOWED_DOMAINS).") % {"sender": mail.sender_email}
        )
    title = strip_prefixes(mail.subject).strip() or _("(no subject)")
    description, whole_text = _fitted(mail.text)
    spec = {
        "title": title[:200], "impact": Impact.FEW_USERS, "urgency": Urgency.NORMAL,
        "channel": CHANNEL, "submitter": sender,
        "submitter_name": ("" if sender else (mail.sender_name or mail.sender_email))[:100],
        "submitter_contact": ("" if sender else mail.sender_email)[:200],
        "description": description,
    }
    return _NewProblem(message, record, mail, spec, [*mail.attachments, *whole_text])


def _fitted(text: str) -> tuple[str, list[MailAttachment]]:
    """``text`` as a description or comment holds it (LONG_TEXT_MAX characters, what a page
    can still show); a longer text is cut there, saying so, and kept whole as a file."""
    if len(text.strip()) <= LONG_TEXT_MAX:
        return text, []
    name = _("mail-text.txt")
    note = "\n\n" + _("(The mail's text is longer than this; all of it is in %(name)s.)"
                      ) % {"name": name}
    whole = MailAttachment(name=name, content_type="text/plain", content=text.encode())
    return text.strip()[:LONG_TEXT_MAX - len(note)] + note, [whole]


def _may_comment(sender: User | None, address: str, ticket: Ticket) -> bool:
    """The submitter, staff who see the ticket, its assignee and collaborators may; an
    external submitter (no account) from the address the ticket was opened with."""
    if sender is not None:
        return ticket_selectors.visible_tickets(sender).filter(pk=ticket.pk).exists()
    return ticket.submitter_id is None and address == ticket.submitter_contact.strip().lower()


def _comment(mail: ParsedMail, message: InboundMessage, record: MailMessage,
             sender: User | None, number: int) -> dict[str, Any]:
    key = Ticket.key_of(number)
    ticket = (Ticket.objects.filter(pk=number)
              .only("pk", "submitter_id", "submitter_contact").first())
    if ticket is None or not _may_comment(sender, mail.sender_email, ticket):
        # The same answer whether the ticket exists or not: a guessed key reveals nothing.
        raise MailQuarantined(
            _("%(sender)s replied to %(key)s but is not its submitter, a staff member who can "
              "see it, its assignee or a collaborator.") % {"sender": mail.sender_email, "key": key}
        )
    body, whole_text = _fitted(reply_text(mail.text))
    files = [*mail.attachments, *whole_text]
    if not body:
        names = ", ".join(a.name for a in files)
        if not names:
            raise MailQuarantined(_("The reply to %s is empty.") % key)
        body = _("Files sent by mail: %s") % names
    try:
        comment = tickets.add_comment(ticket_id=number, by=sender, body=body,
                                      author_name="" if sender else _sender_label(mail))
    except DomainError as error:  # a closed ticket, for instance
        raise MailQuarantined(_("%(key)s: %(problem)s") % {"key": key, "problem": error.message}
                              ) from error
    record.outcome, record.ticket, record.comment = MailOutcome.COMMENT, ticket, comment
    record.save(update_fields=["outcome", "ticket", "comment"])
    skipped = _attach(ticket, files, sender, comment=comment)
    return {"ticket": key, "comment": comment.pk,
            "attachments": len(files) - len(skipped), "skipped_attachments": skipped,
            "sent_at": _sent_at(mail, message)}


def _attach(ticket: Ticket, files: Iterable[MailAttachment], sender: User | None,
            comment: Comment | None) -> list[str]:
    """Store the mail's files on the ticket; one over the size limit is left out and noted on
    the timeline. Returns the names left out."""
    skipped = []
    for attachment in files:
        try:
            tickets.add_attachment(
                ticket_id=ticket.pk, by=sender, name=attachment.name,
                content=attachment.content, content_type=attachment.content_type,
                comment=comment,
            )
        except AttachmentTooLarge:
            skipped.append(attachment.name)
            tickets.record_event(
                ticket=ticket, kind=TimelineEvent.Kind.ATTACHMENT, actor=None,
                data={"skipped": attachment.name, "size": len(attachment.content),
                      "limit": settings.OPSDESK_ATTACHMENT_MAX_BYTES},
            )
    return skipped
