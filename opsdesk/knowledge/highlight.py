"""Snippets of a ticket's own text around the words someone searched for, marked.

Marked on the original text, not on the index's words: the text is escaped first, then
the words are wrapped in ``<mark>``, so that whatever a user wrote (``<script>`` included) is
shown as text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from django.core.exceptions import FieldDoesNotExist
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from opsdesk.tickets.models import Ticket

# Characters of context shown before the first match, and a snippet's length.
BEFORE, LENGTH = 24, 120
_LETTER = re.compile(r"[^\W_]", re.ASCII)


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` normalised as the index normalises it, with each folded character's offset in
    the original (NFKC can turn one character into several)."""
    lowered = text.lower()
    if len(lowered) == len(text) and unicodedata.is_normalized("NFKC", text):
        return lowered, list(range(len(text)))  # the common case, at a fraction of the cost
    folded, origin = [], []
    for at, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).lower():
            folded.append(piece)
            origin.append(at)
    return "".join(folded), origin


def _spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Where ``words`` occur in ``text`` (original offsets), merged. A word of letters or
    digits only counts as a whole word ("at" is not marked inside "data")."""
    folded, origin = _folded(text)
    found = []
    for word in words:
        start = folded.find(word)
        while start >= 0:
            end = start + len(word)
            joined_before = (start > 0 and _LETTER.match(word[0])
                             and _LETTER.match(folded[start - 1]))
            joined_after = (end < len(folded) and _LETTER.match(word[-1])
                            and _LETTER.match(folded[end]))
            if not (joined_before or joined_after):
                found.append((origin[start], origin[end - 1] + 1))
            start = folded.find(word, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, words: Sequence[str], *, whole: bool = False) -> SafeString | None:
    """Escaped ``text`` around its first match with every match marked, or None if no word
    occurs in it. ``whole``: all of the text (a title), not a window of it."""
    spans = _spans(text, words)
    if not spans:
        return None
    start, end = 0, len(text)
    if not whole:
        start = max(0, spans[0][0] - BEFORE)
        end = min(len(text), start + LENGTH)
    parts = ["…" if start > 0 else ""]
    at = start
    for span_start, span_end in spans:
        if span_start >= end:
            break
        span_start, span_end = max(span_start, at), min(span_end, end)
        parts += [escape(text[at:span_start]), "<mark>", escape(text[span_start:span_end]),
                  "</mark>"]
        at = span_end
    parts += [escape(text[at:end]), "…" if end < len(text) else ""]
    return mark_safe("".join(parts))  # every piece of user text above is escaped


def labelled(highlights: dict[str, SafeString]) -> list[tuple[str, SafeString]]:
    """A ticket's highlights with the name of each field in the reader's language, for a
    results page (the title is shown by the row itself)."""
    return [(_field_label(name), part) for name, part in highlights.items() if name != "title"]


def _field_label(name: str) -> str:
    if name == "comments":
        return _("Comment")
    if name == "work_log":
        return _("Work log")
    try:
        field = Ticket._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))
