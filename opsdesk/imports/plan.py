"""From an export's rows to the tickets they would become, or the reason each one cannot.

Everything is read, mapped and checked here, before anything is written: a dry run stops after
this, and a real run writes only what passed. Each ticket is built by the tickets service's own
``new_ticket``, so an imported ticket meets the rules every filed one does (lengths, names).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from django.utils.translation import gettext as _

from opsdesk.accounts.models import Module, User
from opsdesk.accounts.roles import ASSIGNABLE_ROLES
from opsdesk.bounds import MomentOutOfRange, check_past_moment
from opsdesk.errors import DomainError
from opsdesk.imports import selectors
from opsdesk.imports.dates import parse_moment
from opsdesk.imports.mapping import Mapping, normal
from opsdesk.imports.people import Directory, Person
from opsdesk.imports.reading import Record, Table, UnreadableFile
from opsdesk.imports.sources import ARCHIVED, OPEN, Column, CommentFormatError, Source
from opsdesk.intake.mail.html_text import html_to_text
from opsdesk.tickets import fields as f
from opsdesk.tickets.choices import Channel, Impact, Priority, SourceKind, Status, Urgency
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import new_ticket

# An export gives a priority, not impact and urgency: each priority is filed with the cell
# of the default matrix that gives it, so the ticket's three fields agree.
IMPACT_AND_URGENCY = {
    Priority.URGENT: (Impact.ALL_USERS, Urgency.IMMEDIATE),
    Priority.HIGH: (Impact.SOME_USERS, Urgency.HIGH),
    Priority.MEDIUM: (Impact.FEW_USERS, Urgency.NORMAL),
    Priority.LOW: (Impact.FEW_USERS, Urgency.LOW),
}
KEY_MAX_LENGTH = 100  # ImportedTicket.external_key
T = TypeVar("T")


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Refusal:
    line: int
    key: str
    reason: str


@dataclass(frozen=True)
class CommentDraft:
    at: datetime
    author: Person | None  # None: the export names nobody
    body: str


@dataclass
class Draft:
    """One ticket to be: unsaved, with what its timeline and import record will say."""

    line: int
    key: str
    reference: str
    ticket: Ticket
    reporter: User | None
    closer: User | None
    closing_note: str
    comments: list[CommentDraft]
    people: list[Person]
    unmatched_module: str
    original: dict[str, str]


@dataclass
class Plan:
    source: Source
    file_name: str
    encoding: str
    rows: int
    public_comments: bool
    drafts: list[Draft] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    already_imported: int = 0


def prepare(*, table: Table, source: Source, mapping: Mapping, file_name: str,
            encoding: str) -> Plan:
    """Every row of ``table`` as a draft, a refusal, or one already imported. Raises
    UnreadableFile when the export lacks a column opsdesk cannot do without."""
    missing = [c for c in source.required if not any(table.has(n) for n in mapping.names(c))]
    if missing:
        raise UnreadableFile(
            _("This is not a %(source)s export as opsdesk knows it: it lacks the columns "
              "%(missing)s (it has: %(found)s). A mapping file's [columns] can name others.")
            % {"source": source.label, "found": ", ".join(h for h in table.headers if h),
               "missing": ", ".join(" / ".join(mapping.names(c)) or c for c in missing)})
    plan = Plan(source=source, file_name=file_name, encoding=encoding,
                rows=len(table.records), public_comments=mapping.public_comments)
    keys = {record.line: record.first(mapping.names(Column.KEY)) for record in table.records}
    already = selectors.imported_keys(system=source.system,
                                      keys=sorted({key for key in keys.values() if key}))
    drafter = Drafter(source=source, mapping=mapping, table=table)
    first_line: dict[str, int] = {}
    for record in table.records:
        key = keys[record.line]
        if key in already:
            plan.already_imported += 1
            continue
        try:
            plan.drafts.append(drafter.draft(record, key, first_line))
        except Refused as refusal:
            plan.refusals.append(Refusal(record.line, key, refusal.reason))
    return plan


class Drafter:
    def __init__(self, *, source: Source, mapping: Mapping, table: Table) -> None:
        self.source, self.mapping, self.table = source, mapping, table
        self.directory = Directory(explicit=mapping.people, nobody=source.nobody)
        self.modules = selectors.modules_by_name()

    @functools.cache  # noqa: B019 (one drafter per import)
    def label(self, column: Column) -> str:
        """The column as the file names it, for messages."""
        names = self.mapping.names(column)
        return next((n for n in names if self.table.has(n)), names[0] if names else column)

    def draft(self, record: Record, key: str, first_line: dict[str, int]) -> Draft:
        if not key:
            raise Refused(_("%s is empty.") % self.label(Column.KEY))
        if len(key) > KEY_MAX_LENGTH:
            raise Refused(_("%(column)s is longer than %(limit)d characters.")
                          % {"column": self.label(Column.KEY), "limit": KEY_MAX_LENGTH})
        if key in first_line:
            raise Refused(_("%(key)s appears again: it was first at line %(line)d.")
                          % {"key": key, "line": first_line[key]})
        first_line[key] = record.line
        if record.extra_cells:
            raise Refused(_("The row has %(extra)d more cells than the file has columns.")
                          % {"extra": record.extra_cells})
        return self._draft(Row(record, self.mapping), key)

    def _draft(self, row: Row, key: str) -> Draft:
        """The row's draft; refused naming every problem it has, not only the first."""
        problems: list[str] = []

        def checked(check: Callable[[], T]) -> T | None:
            try:
                return check()
            except Refused as refusal:
                problems.append(refusal.reason)
                return None

        target = checked(lambda: self._target(row))
        priority = checked(lambda: self._priority(row.text(Column.PRIORITY)))
        created = checked(lambda: self._moment(row, Column.CREATED))
        closing = comments = None
        if created is not None:
            if target not in (None, OPEN):
                closing = checked(lambda: self._closing(row, created))
            comments = checked(lambda: self._comments(row, created))
        find = self.directory.find
        reporter, assignee, resolver, closer = (
            find(row.text(column)) for column in
            (Column.REPORTER, Column.ASSIGNEE, Column.RESOLVER, Column.CLOSER))
        module, unmatched_module = self._module(row)
        ticket = checked(lambda: self._ticket(row, priority or Priority.MEDIUM, reporter, module))
        if problems or ticket is None or target is None or created is None or comments is None:
            raise Refused(" ".join(problems))
        ticket.submitted_at = created
        # Who handled it: the assignee, or once ZenTao closed it (指派给 then says Closed),
        # whoever resolved it.
        ticket.assignee = self._assignee(assignee or (resolver if target != OPEN else None),
                                         target)
        ticket.status = {OPEN: Status.ASSIGNED if ticket.assignee else Status.NEW,
                         ARCHIVED: Status.ARCHIVED}.get(target, Status.CLOSED)
        ticket.closed_at = closing
        ticket.archived_at = closing if target == ARCHIVED else None
        original = {name: value for name, value in (
            ("status", row.text(Column.STATUS)), ("priority", row.text(Column.PRIORITY)),
            ("resolution", row.text(Column.RESOLUTION)),
            ("module", ", ".join(row.every(Column.MODULE))),
            *((role, person.name) for role, person in (
                ("reporter", reporter), ("assignee", assignee), ("resolver", resolver),
                ("closer", closer)) if person is not None),
        ) if value}
        return Draft(
            line=row.record.line, key=key, reference=self.source.reference(key), ticket=ticket,
            reporter=reporter.user if reporter else None,
            closer=next((p.user for p in (closer, resolver) if p and p.user), None),
            closing_note=" · ".join(v for v in (original.get("status"),
                                                original.get("resolution")) if v),
            comments=comments,
            people=[p for p in (reporter, assignee, resolver, closer, *(
                c.author for c in comments)) if p is not None],
            unmatched_module=unmatched_module, original=original,
        )

    def _ticket(self, row: Row, priority: Priority, reporter: Person | None,
                module: Module | None) -> Ticket:
        """The unsaved ticket, as the tickets service files one (its checks included)."""
        impact, urgency = IMPACT_AND_URGENCY[priority]
        if reporter is None:
            submitter_name = self.source.label  # the export names nobody: it came from there
        else:
            submitter_name = "" if reporter.user else reporter.name
        description = row.text(Column.DESCRIPTION)
        if Column.DESCRIPTION in self.source.html:
            description = html_to_text(description)
        try:
            ticket = new_ticket(
                by=None, title=row.text(Column.TITLE), impact=impact, urgency=urgency,
                priority=priority.code, source_kind=SourceKind.USER_REPORT,
                channel=Channel.TICKET_PLATFORM,
                submitter=reporter.user if reporter else None, submitter_name=submitter_name,
                module=module, description=description,
            )
            ticket.cause = f.CAUSE.parse(row.text(Column.CAUSE)) or ""
            ticket.solution = f.SOLUTION.parse(row.text(Column.SOLUTION)) or ""
        except DomainError as error:
            raise Refused(error.message) from error
        return ticket

    def _target(self, row: Row) -> str:
        status = row.text(Column.STATUS)
        target = self.mapping.statuses.get(normal(status))
        if target is None:
            category = row.text(Column.STATUS_CATEGORY)
            target = self.mapping.status_categories.get(normal(category))
        if target is None:
            raise Refused(_("The status “%s” is not in the mapping: add it under [status] as "
                            "open, closed or archived.") % status)
        return target

    def _priority(self, value: str) -> Priority:
        if not value:
            return Priority.MEDIUM
        priority = self.mapping.priorities.get(normal(value))
        if priority is None:
            raise Refused(_("The priority “%s” is not in the mapping: add it under [priority] "
                            "as urgent, high, medium or low.") % value)
        return priority

    def _moment(self, row: Row, column: Column) -> datetime | None:
        """The column's moment, or None when it is blank (refused when it is required)."""
        value = row.text(column)
        moment = self._read_moment(value, self.label(column))
        if moment is None and column in self.source.required:
            raise Refused(_("%s is empty.") % self.label(column))
        return moment

    def _read_moment(self, value: str, label: str) -> datetime | None:
        try:
            moment = parse_moment(value, formats=self.mapping.date_formats,
                                  zone=self.mapping.zone)
        except ValueError:
            raise Refused(_("%(column)s: “%(value)s” is not a date opsdesk can read; name its "
                            "format under [dates] in a mapping file.")
                          % {"column": label, "value": value}) from None
        if moment is None:
            return None
        try:
            return check_past_moment(moment)
        except MomentOutOfRange as error:
            raise Refused(f"{label}: “{value}”: {error}") from error

    def _closing(self, row: Row, created: datetime) -> datetime:
        """When a closed issue was closed: its closing date, else its resolution, else its last
        change, else its creation."""
        for column in (Column.CLOSED, Column.RESOLVED, Column.UPDATED):
            moment = self._moment(row, column)
            if moment is None:
                continue
            if moment < created:
                raise Refused(_("%(column)s (%(value)s) is before the issue was created.")
                              % {"column": self.label(column), "value": row.text(column)})
            return moment
        return created

    def _assignee(self, handler: Person | None, target: str) -> User | None:
        """Who handled it. An open ticket is assigned only to someone who may hold it now (an
        active module owner or support engineer); otherwise it waits for routing."""
        user = handler.user if handler else None
        if user is not None and target == OPEN and not (
                user.is_active and user.has_role(*ASSIGNABLE_ROLES)):
            return None
        return user

    def _module(self, row: Row) -> tuple[Module | None, str]:
        """The module the row names (by the mapping, or by a module's code or name), or the
        first name that found none."""
        unmatched = ""
        for value in row.every(Column.MODULE):
            names = self.source.module_names(value)
            for name in names:
                module = self.mapping.modules.get(normal(name)) or self.modules.get(normal(name))
                if module is not None:
                    return module, ""
            unmatched = unmatched or (value if names else "")
        return None, unmatched

    def _comments(self, row: Row, created: datetime) -> list[CommentDraft]:
        try:
            exported = self.source.comments(row.every(Column.COMMENTS))
        except CommentFormatError as error:
            raise Refused(str(error)) from error
        drafts = []
        for number, comment in enumerate(exported, start=1):
            label = _("Comment %d") % number
            at = self._read_moment(comment.when, label)
            if at is None:
                raise Refused(_("%s has no date.") % label)
            if at < created:
                raise Refused(_("%(comment)s (%(when)s) is older than the issue.")
                              % {"comment": label, "when": comment.when})
            try:
                body = f.COMMENT.parse(comment.body) or ""
            except DomainError as error:
                raise Refused(f"{label}: {error.message}") from error
            if body:
                drafts.append(CommentDraft(at, self.directory.find(comment.author), body))
        return drafts


@dataclass(frozen=True)
class Row:
    """A record read through the mapping's column names."""

    record: Record
    mapping: Mapping

    def text(self, column: Column) -> str:
        return self.record.first(self.mapping.names(column))

    def every(self, column: Column) -> list[str]:
        return self.record.every(self.mapping.names(column))


def tally(drafts: list[Draft]) -> dict[str, Counter[str]]:
    """How the people and modules of ``drafts`` were found: names matched, unmatched and
    ambiguous (by mentions), and modules no module matched (by rows)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in (
        "matched", "unmatched", "ambiguous", "modules")}
    for draft in drafts:
        for person in draft.people:
            kind = ("matched" if person.user else "ambiguous" if person.ambiguous
                    else "unmatched")
            counts[kind][person.name] += 1
        if draft.unmatched_module:
            counts["modules"][draft.unmatched_module] += 1
    return counts
