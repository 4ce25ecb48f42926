"""A queue page's rows, rendered in Python (a page shows fifty): the URL reversed and the
labels translated once per page.

The view renders them before its template, so that the template's context holds their HTML,
not the tickets: a template context refers to itself, and whatever it holds is freed only by
the cycle collector, fifty tickets a page, with all they hold (bench/README.md, *Queues*).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.models import Ticket
from opsdesk.web.badges import sla_badge

KEY_SLOT = "KEY-0"  # a key in the ticket URL's pattern, replaced by each row's


def ticket_rows(tickets: Iterable[Ticket], seen: int) -> SafeString:
    """The rows of ``tickets``, with a search's hit lines under each match; those newer than
    ``seen`` marked fresh."""
    page = _RowsPage(seen)
    return mark_safe("".join(page.row(ticket) for ticket in tickets))


def _text(value: Any) -> str:
    """``value`` escaped for HTML, unless it is already safe (a search's marked text)."""
    return str(conditional_escape(value))


class _RowsPage:
    def __init__(self, seen: int) -> None:
        self.seen, self.now = seen, timezone.now()
        self.url = reverse("web:ticket", args=[KEY_SLOT])
        self.priorities = {value: _text(label) for value, label in Priority.choices}
        self.statuses = {value: _text(label) for value, label in Status.choices}
        # On a phone the row is a card without the table's header: each cell says what it is.
        self.assignee_label, self.module_label, self.at_label = (
            _text(_("Assignee")), _text(_("Module")), _text(_("Submitted")))

    def row(self, ticket: Ticket) -> str:
        url = _text(self.url.replace(KEY_SLOT, ticket.key))
        p = int(ticket.priority)
        fresh = " fresh" if ticket.pk > self.seen else ""
        # A search's marked title is escaped text with <mark>s (knowledge/highlight.py).
        title = _text(getattr(ticket, "highlights", {}).get("title") or ticket.title)
        status = _text(ticket.status)
        submitted = timezone.localtime(ticket.submitted_at)
        return (
            f'<tr class="p{p}{fresh}"><td class="key"><a href="{url}">{_text(ticket.key)}</a>'
            f'</td><td><span class="badge prio p{p}">{self.priorities.get(p, p)}</span></td>'
            f'<td class="title"><a href="{url}">{title}</a></td>'
            f'<td><span class="badge status s-{status}">'
            f'{self.statuses.get(ticket.status, status)}</span></td>'
            f'<td>{self.sla(ticket)}</td>'
            f'<td data-label="{self.assignee_label}">{_text(ticket.assignee or "—")}</td>'
            f'<td data-label="{self.module_label}">{_text(ticket.module or "—")}</td>'
            f'<td data-label="{self.at_label}"><time datetime="{submitted.isoformat()}">'
            f'{submitted.strftime("%m-%d %H:%M")}</time></td></tr>'
            + self.hits(ticket))

    def sla(self, ticket: Ticket) -> str:
        badge = sla_badge(ticket, self.now)
        if badge is None:
            return ""
        label = _text(badge.label)
        due = (f' · <time class="countdown" datetime="{badge.due.isoformat()}">'
               f'{_text(badge.remaining)}</time>') if badge.due else ""
        return f'<span class="sla sla-{badge.state}" title="{label}">{label}{due}</span>'

    @staticmethod
    def hits(ticket: Ticket) -> str:
        """The search's matching lines of other fields, under the ticket's row."""
        lines = getattr(ticket, "hit_lines", None)
        if not lines:
            return ""
        parts = "".join(f'<span class="hit"><span class="hit-field">{_text(label)}</span> '
                        f'{_text(part)}</span>' for label, part in lines)
        return f'<tr class="hits"><td></td><td colspan="7">{parts}</td></tr>'
