"""Template tags of the workspace: a ticket's SLA badge, the inputs of generated forms, a
select's options (a queue page's rows: web/rows.py). The ones a page repeats many times
render in Python: a Django template include or loop body costs far more per use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from opsdesk.sla.selectors import clock_targets
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
