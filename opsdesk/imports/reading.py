"""Reading an export file: its encoding, its delimiter, and its records, each with the line of
the file it starts on (a quoted description may span many lines)."""

from __future__ import annotations

import codecs
import csv
import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from opsdesk.errors import DomainError

ENCODINGS = ("auto", "utf-8", "gbk")
# A pasted log can make one cell large; csv's default limit is 128 KiB.
CELL_LIMIT = 16 * 1024 * 1024
DELIMITERS = ",;\t"


class UnreadableFile(DomainError):
    """The file cannot be read as a table; the message says why, in the active language."""

    code = "unreadable_file"
    status = 422


def decode(raw: bytes, encoding: str) -> tuple[str, str]:
    """The file's text and the encoding it was read in. ``auto`` reads UTF-8 (with or without
    Excel's byte-order mark) and otherwise GBK. GBK is read as GB18030, its superset, so that
    a character GBK lacks but a Chinese system wrote anyway still reads."""
    if raw.startswith(codecs.BOM_UTF8):
        raw, encoding = raw[len(codecs.BOM_UTF8):], "utf-8"
    tried = ("utf-8", "gbk") if encoding == "auto" else (encoding,)
    offset = 0
    for name in tried:
        try:
            return raw.decode("gb18030" if name == "gbk" else name), name
        except UnicodeDecodeError as error:
            offset = error.start
    if encoding == "auto":
        message = _("The file is neither UTF-8 nor GBK text (byte %(offset)d cannot be read): "
                    "name its encoding with --encoding.")
    else:
        message = _("The file is not %(encoding)s text (byte %(offset)d cannot be read): "
                    "name its encoding with --encoding.")
    raise UnreadableFile(message % {"encoding": encoding.upper(), "offset": offset})


@functools.cache
def clean_header(name: str) -> str:
    """A column's name as it is looked up: without surrounding space, in any case."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Record:
    """One row of the export: its line in the file and its cells by column (a column may
    repeat, as Jira's Comment does, so each holds a list)."""

    line: int
    cells: dict[str, list[str]]
    extra_cells: int = 0  # cells beyond the header's columns: the row is malformed

    def first(self, columns: Iterable[str]) -> str:
        """The first non-empty value of these columns, stripped, or ''."""
        return next(iter(self.every(columns)), "")

    def every(self, columns: Iterable[str]) -> list[str]:
        """Every non-empty value of these columns, stripped, in the file's order."""
        return [value.strip() for column in columns
                for value in self.cells.get(clean_header(column), []) if value.strip()]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    records: list[Record]
    columns: frozenset[str]  # the headers as they are looked up

    def has(self, column: str) -> bool:
        return clean_header(column) in self.columns


def read_table(text: str) -> Table:
    """The header and records of a CSV export. NUL characters are dropped (PostgreSQL cannot
    store them); rows that hold nothing are skipped."""
    text = text.replace("\x00", "")
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    csv.field_size_limit(CELL_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise UnreadableFile(_("The file is empty.")) from None
    keys = [clean_header(h) for h in headers]
    if not any(keys):
        raise UnreadableFile(_("The file's first line names no columns."))
    records = []
    line = reader.line_num + 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                cells: dict[str, list[str]] = {}
                for key, value in zip(keys, row, strict=False):
                    cells.setdefault(key, []).append(value)
                records.append(Record(line, cells, max(0, len(row) - len(keys))))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(_("Line %(line)d cannot be read as CSV: %(error)s")
                             % {"line": line, "error": error}) from error
    return Table(headers, records, frozenset(keys))
