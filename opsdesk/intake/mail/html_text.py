"""Plain text from an HTML-only mail, laid out as a browser shows it (inscriptis): scripts,
styles and the head are dropped, blocks become lines, table rows stay rows, and the result is
text, never markup."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# lxml and inscriptis are imported at the first HTML-only mail, not when a web process starts:
# ~9 MB that every process would otherwise hold (bench.memory).

# Elements whose content no reader saw: besides the head, scripts and styles that inscriptis
# hides, what a mail client shows as a box or not at all (embedded pages, templates, drawings).
HIDDEN = ("head", "title", "script", "style", "template", "iframe", "object", "svg", "math")
# libxml2 drops a whole document nested 255 elements deep unless told the tree may be huge
# (then 2048: only a hostile mail nests so deep, and it reads as empty), and inscriptis walks
# the tree recursively, a Python frame a level: past this depth, elements keep their text
# but lose their tags.
MAX_DEPTH = 200


@cache
def _config() -> Any:
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.html_properties import Display
    from inscriptis.model.config import ParserConfig
    from inscriptis.model.html_element import HtmlElement as Style

    # No link targets: a reader saw the link's text, and a target may be ``javascript:``.
    return ParserConfig(
        css={**CSS_PROFILES["strict"], **{tag: Style(display=Display.none) for tag in HIDDEN}},
        display_links=False, display_images=False,
    )


@cache
def _parser() -> Any:
    from lxml.html import HTMLParser

    return HTMLParser(huge_tree=True)


def html_to_text(html: str) -> str:
    """The text a reader of ``html`` saw, one block per line, blank runs collapsed."""
    if not html.strip():
        return ""
    from inscriptis.html_engine import Inscriptis
    from lxml import etree
    from lxml.html import document_fromstring

    # lxml refuses a str that declares its own encoding; the text is decoded already.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)
    try:
        tree = document_fromstring(html, parser=_parser())
    except etree.ParserError:  # nothing but comments or whitespace
        return ""
    _flatten_below(tree, MAX_DEPTH)
    text = Inscriptis(tree, _config()).get_text()
    lines = [line.rstrip(" \t\u00a0") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _flatten_below(tree: HtmlElement, depth: int) -> None:
    from lxml import etree

    pending = [(tree, 0)]
    while pending:
        element, level = pending.pop()
        if level == depth:
            etree.strip_elements(element, *HIDDEN, with_tail=False)
            etree.strip_tags(element, "*")
        else:
            pending.extend((child, level + 1) for child in element)
