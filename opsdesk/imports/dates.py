"""Dates as other trackers write them: ISO (ZenTao, and Jira set to it), Jira's default
``05/Dec/26 3:04 PM`` and the same from a Jira running in Chinese (``05/十二月/26 3:04 下午``),
or the formats a mapping file names. ZenTao writes ``0000-00-00`` for a date never set."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

# Jira's own default first, then the usual alternatives of its date settings.
JIRA_FORMATS = (
    "%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%Y %H:%M",
    "%d/%b/%y", "%d/%b/%Y",
)
# Other common renderings (a spreadsheet that saved the export again writes slashes).
COMMON_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")

_CHINESE_MONTHS = ("一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月",
                   "十月", "十一月", "十二月")
_ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                   "Dec")
# The longest first: 十一月 holds 一月.
_MONTH_WORDS = sorted(zip(_CHINESE_MONTHS, _ENGLISH_MONTHS, strict=True),
                      key=lambda pair: -len(pair[0]))
_HALF_DAYS = (("上午", "AM"), ("下午", "PM"))
_NEVER_SET = re.compile(r"0000-00-00( 00:00(:00)?)?")


def parse_moment(text: str, *, formats: Sequence[str], zone: ZoneInfo) -> datetime | None:
    """The moment ``text`` names, in ``zone`` unless it carries its own offset; None when it
    is blank or ZenTao's never-set date. ValueError when no format reads it."""
    text = " ".join(text.split())
    if not text or _NEVER_SET.fullmatch(text):
        return None
    for chinese, english in _MONTH_WORDS:
        text = text.replace(f"/{chinese}/", f"/{english}/")
    for chinese, english in _HALF_DAYS:
        text = text.replace(f" {chinese}", f" {english}").replace(chinese, f" {english}")
    moment = _read(text, formats)
    if moment is None:
        raise ValueError(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _read(text: str, formats: Sequence[str]) -> datetime | None:
    for pattern in formats:
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007 (made aware by the caller)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in (*JIRA_FORMATS, *COMMON_FORMATS):
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007
        except ValueError:
            continue
    return None
