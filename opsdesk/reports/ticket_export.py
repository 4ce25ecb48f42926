"""The tickets themselves as a file: a list filtered and searched as the queues are (archived
tickets included: the archive is read-only, never out of reach), one row per ticket with its
registration, classification, resolution and post-incident review, for CSV or XLSX
(reports/exports.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.accounts.models import User
from opsdesk.reports.exports import Cell, Link, Table
from opsdesk.reviews.models import Review
from opsdesk.reviews.selectors import reviews_of
from opsdesk.tickets import selectors
from opsdesk.tickets.choices import Priority
from opsdesk.tickets.models import Ticket

# A file of more rows than this is cut there, and says so below the rows: a department
# exporting more wants a backup (``opsdesk backup``) rather than a spreadsheet.
MAX_ROWS = 10_000
PAGE = 200


def tickets_table(*, user: User, filters: selectors.TicketFilters,
                  ticket_url: Callable[[str], str]) -> Table:
    """The tickets ``user`` may read that match ``filters``, newest first (best match first
    with a text), at most MAX_ROWS."""
    tickets: list[Ticket] = []
    cursor: str | None = None
    while len(tickets) < MAX_ROWS:
        page = selectors.list_tickets(user=user, filters=filters, cursor=cursor,
                                      limit=min(PAGE, MAX_ROWS - len(tickets)))
        tickets += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    headers = [_("Key"), _("Title"), _("Status"), _("Priority"), _("Module"),
               _("Problem type"), _("Source"), _("Submitter"), _("Assignee"),
               _("Submitted at"), _("Closed at"), _("Archived at"), _("Cause"), _("Solution"),
               _("Prevention"), _("Time taken (minutes)"), _("Post-incident review"),
               _("Root cause"), _("Action items")]
    listed = _with_texts(tickets)
    reviews = reviews_of([t.pk for t in listed])
    rows: list[list[Cell]] = [[
        Link(t.key, ticket_url(t.key)), t.title, str(t.get_status_display()),
        str(Priority(t.priority).label), t.module.name if t.module else None,
        str(t.get_problem_type_display()) or None, str(t.get_source_kind_display()),
        t.submitter_name, str(t.assignee) if t.assignee else None, t.submitted_at,
        t.closed_at, t.archived_at, t.cause or None, t.solution or None,
        t.prevention or None, t.time_taken_minutes, *_review_cells(reviews.get(t.pk)),
    ] for t in listed]
    notes: list[tuple[str, Cell]] = []
    if cursor is not None:
        notes.append((_("Only the first rows"), MAX_ROWS))
    return Table(_("Tickets"), headers, rows, notes)


def _review_cells(review: Review | None) -> list[Cell]:
    if review is None:
        return [None, None, None]
    state = _("complete") if review.is_complete else _("draft")
    items = "\n".join(
        f"{'✓' if i.done_at else '☐'} {i.title} "
        f"({i.owner}, {timezone.localtime(i.due_at):%Y-%m-%d})"
        for i in review.action_items.all())
    return [state, review.root_cause or None, items or None]


def _with_texts(tickets: list[Ticket]) -> list[Ticket]:
    """The listed tickets with the long texts a list leaves out, read in one query per page
    of ids, in the list's order."""
    texts: dict[int, Ticket] = {}
    ids = [t.pk for t in tickets]
    for start in range(0, len(ids), 500):
        texts.update(Ticket.objects.select_related("module", "assignee")
                     .in_bulk(ids[start:start + 500]))
    return [texts[pk] for pk in ids if pk in texts]
