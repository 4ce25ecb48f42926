"""Figures as files people open in Excel or WPS: CSV (UTF-8 with a byte-order mark, without
which Excel reads Chinese as mojibake) and XLSX (openpyxl, a sheet per figure).

Cells keep their kind: numbers stay numbers, dates and times are spreadsheet dates in the
reader's time zone. Text may come from anyone (a title, a name, an alert's host), and a cell
that starts like a formula would be run by the spreadsheet, so such text is written behind an
apostrophe, which keeps it text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# openpyxl is imported only where a workbook is written: ~6 MB that every web process and the
# worker would otherwise hold for the few who export to Excel (bench.memory). This is its
# ILLEGAL_CHARACTERS_RE (the control characters XLSX cannot hold), which CSV cells use too
# (tests/reports check that the two agree).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What Excel, WPS and LibreOffice take for the start of a formula (OWASP's list: the tab and
# carriage return because some of them skip those first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME_LIMIT = 31  # Excel's
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Link:
    """Text that opens ``url``: a hyperlink in XLSX, the text alone in CSV."""

    text: str
    url: str


Cell = str | int | float | date | datetime | Link | None


@dataclass(frozen=True)
class Table:
    sheet: str  # the sheet's name in a workbook
    headers: list[str]
    rows: list[list[Cell]]
    # Below the rows, after an empty one: what the figure covers (period, module, time zone).
    notes: list[tuple[str, Cell]] = field(default_factory=list)


def safe_text(text: str) -> str:
    """``text`` as a cell shows it and never runs it."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)  # control characters XLSX cannot hold
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local(moment: datetime) -> datetime:
    """A moment as the reader's wall clock shows it (spreadsheets know no time zones)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.replace(tzinfo=None, microsecond=0)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_text(h) for h in table.headers])
    writer.writerows([_csv_cell(c) for c in row] for row in table.rows)
    if table.notes:
        writer.writerow([])
        writer.writerows([safe_text(label), _csv_cell(value)] for label, value in table.notes)
    return ("\ufeff" + out.getvalue()).encode()


def _csv_cell(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    if isinstance(cell, Link):
        return safe_text(cell.text)
    if isinstance(cell, str):
        return safe_text(cell)
    if isinstance(cell, datetime):
        return _local(cell).strftime("%Y-%m-%d %H:%M")
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def to_xlsx(tables: Sequence[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    assert workbook.active is not None
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.sheet, used))
        sheet.append([safe_text(h) for h in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in table.rows:
            _append(sheet, row)
        if table.notes:
            sheet.append([])
            for label, value in table.notes:
                _append(sheet, [label, value])
        _fit_columns(sheet, table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _append(sheet: Worksheet, row: Sequence[Cell]) -> None:
    sheet.append([_xlsx_value(c) for c in row])
    for cell, value in zip(sheet[sheet.max_row], row, strict=False):
        if isinstance(value, Link):
            cell.hyperlink = value.url
            cell.style = "Hyperlink"
        elif isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT


def _xlsx_value(cell: Cell) -> str | int | float | date | datetime | None:
    if isinstance(cell, Link):
        return safe_text(cell.text)
    if isinstance(cell, str):
        return safe_text(cell)
    if isinstance(cell, datetime):
        return _local(cell)
    return cell


def _sheet_name(wanted: str, used: set[str]) -> str:
    from openpyxl.workbook.child import INVALID_TITLE_REGEX

    base = INVALID_TITLE_REGEX.sub(" ", wanted).strip("' ")[:SHEET_NAME_LIMIT] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[:SHEET_NAME_LIMIT - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _fit_columns(sheet: Worksheet, table: Table) -> None:
    """Columns wide enough for their header and values (a CJK character counts twice)."""
    from openpyxl.utils import get_column_letter

    widths = [_width(h) for h in table.headers]
    for row in table.rows:
        for i, value in enumerate(row[:len(widths)]):
            widths[i] = max(widths[i], _width(_csv_cell(value)))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, 60)


def _width(value: object) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(value))
