"""Plain text from an HTML-only mail, through the standard library's HTML parser: scripts,
styles and the head are dropped, blocks become lines, and the result is text, never markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never text a reader saw.
HIDDEN = frozenset({"script", "style", "head", "title", "noscript", "template", "iframe",
                    "object", "svg", "math"})
BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "blockquote", "pre",
                    "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
                    "address", "center", "form", "fieldset", "dl", "dt", "dd"})
VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
                  "source", "track", "wbr", "param"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden: list[str] = []  # the open hidden elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden.append(tag)
        elif tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in ("td", "th"):
            self.chunks.append("\t")
        elif tag in BLOCKS:
            self.chunks.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HIDDEN:  # <script/> opens nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            if tag in self.hidden:
                del self.hidden[len(self.hidden) - 1 - self.hidden[::-1].index(tag):]
        elif tag in BLOCKS or tag == "li":
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> str:
    """The text a reader of ``html`` saw, one block per line, blank runs collapsed."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = [line.strip(" \t\u00a0") for line in "".join(collector.chunks).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
