"""Text from the bytes of a mail, exactly, whatever Chinese mail clients claim its charset is.

Outlook labels GBK text (even GB18030 four-byte characters) ``gb2312``; Taiwanese clients label
CP950 text ``big5``; a body labelled ``utf-8`` may be GBK; old clients send 8-bit headers with no
label at all. So a label names a family, decoded with its superset, and when the label is
missing or wrong the candidates (UTF-8, GB18030, Big5) are compared by how plausible their text
is. Nothing here raises: undecodable bytes end as U+FFFD, never as a failed message.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from functools import lru_cache

# Labels mail clients write that Python does not know, and the codec they mean.
ALIASES = {
    "x-gbk": "gbk", "gb_2312-80": "gb2312", "csgb2312": "gb2312", "x-euc-cn": "gb2312",
    "x-big5": "big5", "big5-hkscs": "big5hkscs", "cn-big5": "big5", "x-x-big5": "big5",
    "unicode-1-1-utf-8": "utf-8", "utf8": "utf-8",
}
# A family's superset first: every GB label is decoded as GB18030, Big5 as Microsoft's CP950
# (what Windows writes) and then HKSCS.
SUPERSETS = {
    "gb2312": ("gb18030",), "gbk": ("gb18030",), "gb18030": ("gb18030",),
    "big5": ("cp950", "big5hkscs"), "cp950": ("cp950", "big5hkscs"),
    "big5hkscs": ("big5hkscs", "cp950"), "ascii": ("utf-8",), "latin-1": ("utf-8", "latin-1"),
}
DETECTION_ORDER = ("utf-8", "gb18030", "cp950", "big5hkscs")


def codecs_for(label: str | None) -> tuple[str, ...]:
    """The codecs to try, in order, for a declared charset (empty when unknown or absent)."""
    if not label:
        return ()
    label = label.strip().strip('"').lower()
    label = ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return ()
    # "latin-1" in mail is nearly always a client's default, not a choice: UTF-8 first.
    return SUPERSETS.get(name, (name,))


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


# Where a family's common Han characters are: GB2312 level 1 (lead bytes B0–D7) and Big5
# level 1 (A4–C6). Each candidate is judged by its own family's list.
COMMON_HAN = {"gb2312": (0xB0, 0xD7), "big5": (0xA4, 0xC6)}
FAMILY = {"gb18030": "gb2312", "cp950": "big5", "big5hkscs": "big5"}


@lru_cache(maxsize=65536)
def _implausibility(char: str, family: str) -> int:
    """How unlikely ``char`` is in a Chinese mail read as ``family``: 0 for ASCII, punctuation
    and the family's common Han characters, 1 for other Han characters (0 in UTF-8, where a
    rare character is rarely an accident), 3 for the symbols, kana, Hangul and accented Latin
    letters that a wrong guess produces."""
    code = ord(char)
    if code < 0x80 or 0x2000 <= code <= 0x206F or 0x3000 <= code <= 0x303F \
            or 0xFF00 <= code <= 0xFFEF:
        return 0
    if 0x3400 <= code <= 0x9FFF or 0x20000 <= code <= 0x3FFFF or 0xF900 <= code <= 0xFAFF:
        if family not in COMMON_HAN:
            return 0
        low, high = COMMON_HAN[family]
        try:
            return 0 if low <= char.encode(family)[0] <= high else 1
        except UnicodeEncodeError:
            return 1
    return 3


def _score(text: str, codec: str) -> int:
    family = FAMILY.get(codec, codec)
    return sum(_implausibility(char, family) for char in text if ord(char) >= 0x80)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """``data`` as text. A declared GB or Big5 charset is trusted when its superset decodes
    the bytes; a declared UTF-8 when the bytes are valid UTF-8; otherwise the most plausible
    of UTF-8, GB18030 and Big5."""
    if data.isascii():
        return data.decode("ascii")
    declared_codecs = codecs_for(declared)
    for codec in declared_codecs:
        text = _strict(data, codec)
        if text is not None:
            return text
    candidates = []
    for order, codec in enumerate(DETECTION_ORDER):
        text = _strict(data, codec)
        if text is not None:
            candidates.append((_score(text, codec), order, text))
    if candidates:
        return min(candidates)[2]
    fallback = declared_codecs[0] if declared_codecs else "gb18030"
    return data.decode(fallback, errors="replace")


ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
BETWEEN_WORDS = re.compile(r"\s+")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding.lower() == "b":
        text = text.rstrip("=")
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return text.encode("ascii", "surrogateescape")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", "surrogateescape"),
                               header=True)


def _raw(text: str) -> bytes:
    """The bytes of a header as parsed (8-bit bytes were kept as surrogate escapes)."""
    return text.encode("utf-8", "surrogateescape")


def decode_header(value: str) -> str:
    """A header's text: RFC 2047 encoded-words (consecutive words of one charset joined before
    decoding, as clients split multibyte characters between them) and raw 8-bit text, unfolded."""
    value = re.sub(r"\r?\n[ \t]", " ", value)
    pieces: list[str] = []
    pending: tuple[str, bytearray] | None = None
    position = 0
    for match in ENCODED_WORD.finditer(value):
        between = value[position:match.start()]
        if pending is not None and not BETWEEN_WORDS.fullmatch(between) and between:
            pieces.append(decode_bytes(bytes(pending[1]), pending[0]))
            pending = None
        if pending is None and between:
            pieces.append(decode_bytes(_raw(between)))
        charset = match.group(1).split("*", 1)[0]
        data = _word_bytes(match.group(2), match.group(3))
        if pending is not None and pending[0].lower() != charset.lower():
            pieces.append(decode_bytes(bytes(pending[1]), pending[0]))
            pending = None
        if pending is None:
            pending = (charset, bytearray())
        pending[1].extend(data)
        position = match.end()
    if pending is not None:
        pieces.append(decode_bytes(bytes(pending[1]), pending[0]))
    pieces.append(decode_bytes(_raw(value[position:])))
    return "".join(pieces).strip()
