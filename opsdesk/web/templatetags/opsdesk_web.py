"""Template tags of the workspace: a ticket's SLA badge, queue rows, the inputs of generated
forms. The ones a page repeats many times render in Python: a Django template include or
loop body costs far more per use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from opsdesk.sla.selectors import clock_targets
from opsdesk.tickets.choices import Priority, Status
from opsdesk.tickets.fields import Kind
from opsdesk.tickets.models import Ticket
from opsdesk.web.action_forms import Input
from opsdesk.web.badges import sla_badge

register = template.Library()


@register.inclusion_tag("web/parts/sla.html")
def sla(ticket: Ticket) -> dict[str, Any]:
    return {"badge": sla_badge(ticket, timezone.now())}


@register.simple_tag
def sla_targets(ticket: Ticket) -> str:
    """The ticket's SLA targets as entered: "response 15 minutes · resolution 3 business
    days"."""
    clock = getattr(ticket, "sla_clock", None)
    if clock is None:
        return "—"
    response, resolution = clock_targets(clock)
    return _("response %(response)s · resolution %(resolution)s") % {
        "response": response, "resolution": resolution}


@register.simple_tag
def field(item: Input, prefix: str) -> SafeString:
    """One input of a generated form with its label and error (web/parts/input.html's job,
    in Python: a ticket page has dozens of them and template includes cost ~1 ms each)."""
    ident = f"{prefix}-{item.name}"
    invalid = mark_safe(' aria-invalid="true"') if item.error else ""
    mark: str = ""
    if item.required:
        mark = format_html(' <abbr title="{}">*</abbr>', _("required"))
    elif item.when:
        mark = format_html(' <span class="hint">({})</span>', item.when)
    control = _control(item, ident, invalid)
    error = format_html('<p class="error" role="alert">{}</p>', item.error) if item.error else ""
    return format_html(
        '<div class="field{}"><label for="{}">{}{}</label>{}{}</div>',
        " invalid" if item.error else "", ident, item.label, mark, control, error,
    )


def _control(item: Input, ident: str, invalid: str) -> SafeString:
    value = "" if item.value is None else item.value
    if item.kind == Kind.LONG_TEXT:
        return format_html('<textarea id="{}" name="{}" rows="3"{}>{}</textarea>',
                           ident, item.name, invalid, value)
    if item.kind == Kind.BOOLEAN:
        return format_html('<input id="{}" type="checkbox" name="{}"{}>', ident, item.name,
                           mark_safe(" checked") if value is True else "")
    if item.kind == Kind.DATETIME:
        return format_html('<input id="{}" type="datetime-local" name="{}" value="{}"{}>',
                           ident, item.name, value, invalid)
    if item.kind == Kind.MINUTES:
        return format_html('<input id="{}" type="number" min="0" step="1" name="{}" value="{}"'
                           ' placeholder="{}"{}>', ident, item.name, value, _("minutes"), invalid)
    if item.choices:
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if v == value else "", label)
             for v, label in item.choices),
        )
        return format_html('<select id="{}" name="{}"{}><option value="">—</option>{}</select>',
                           ident, item.name, invalid, options)
    limit = format_html(' maxlength="{}"', item.max_length) if item.max_length else ""
    return format_html('<input id="{}" name="{}" value="{}"{}{}>', ident, item.name, value,
                       limit, invalid)


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], selected: Any) -> SafeString:
    """``<option>``s for ``choices``, those in ``selected`` (a value or a list) selected."""
    chosen = {str(v) for v in selected} if isinstance(selected, list | tuple) else {
        "" if selected is None else str(selected)}
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        (value, mark_safe(" selected") if str(value) in chosen else "", label)
        for value, label in choices))


KEY_SLOT = "KEY-0"  # a key in the ticket URL's pattern, replaced by each row's


@register.simple_tag
def ticket_rows(tickets: Iterable[Ticket], seen: int) -> SafeString:
    """A queue page's rows, with a search's hit lines under each match (a page shows fifty:
    rendered in Python, the URL reversed and the labels translated once per page)."""
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
