"""Text from the bytes of a mail, exactly, whatever Chinese mail clients claim its charset is.

Outlook labels GBK text (even GB18030 four-byte characters) ``gb2312``; Taiwanese clients label
CP950 text ``big5``; a body labelled ``utf-8`` may be GBK; old clients send 8-bit headers with no
label at all. So a label names a family, decoded with its superset, and when the label is
missing or wrong the candidates (UTF-8, GB18030, Big5) are compared by how plausible their text
is; only bytes none of them reads as Chinese people write it (Shift_JIS, Cyrillic, Latin) are
left to charset-normalizer. Nothing here raises: bytes no charset reads end as U+FFFD in a
body, as ``\\xff`` escapes in a header, and an encoded-word no charset reads stays as it was
written; never a failed message.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from dataclasses import dataclass
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
        found = codecs.lookup(label)
    except (LookupError, UnicodeError):
        return ()
    if not getattr(found, "_is_text_encoding", True):  # rot13, base64, zlib: not charsets
        return ()
    name = found.name
    # "latin-1" in mail is nearly always a client's default, not a choice: UTF-8 first.
    return SUPERSETS.get(name, (name,))


def _strict(data: bytes, codec: str) -> str | None:
    """``data`` read wholly by ``codec``, as text (no lone surrogate, which unicode_escape
    can produce and no database stores), or None."""
    try:
        text = data.decode(codec)
        text.encode("utf-8")
    except (UnicodeError, LookupError, ValueError):  # idna and punycode raise their own
        return None
    return text


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


def decode_text(data: bytes, declared: str | None = None) -> str | None:
    """``data`` as text, or None when no candidate charset reads all of it. A declared GB or
    Big5 charset is trusted when its superset decodes the bytes; a declared UTF-8 when the
    bytes are valid UTF-8; otherwise the most plausible of UTF-8, GB18030 and Big5."""
    if data.isascii():
        return data.decode("ascii")
    for codec in codecs_for(declared):
        text = _strict(data, codec)
        if text is not None:
            return text
    candidates = []
    for order, codec in enumerate(DETECTION_ORDER):
        text = _strict(data, codec)
        if text is not None:
            candidates.append((_score(text, codec), order, codec, text))
    if candidates:
        _, _, codec, text = min(candidates)
        family = FAMILY.get(codec, codec)
        if any(_implausibility(char, family) == 0 for char in text if ord(char) >= 0x80):
            return text
    # No candidate has a single character a Chinese writer would use: not Chinese at all.
    return _guessed(data) or (min(candidates)[3] if candidates else None)


# charset-normalizer judges by statistics, which short text does not have: under this many
# bytes it reads "您好" as Big5, "数据库连接失败，请处理" as CP949 and "Привет" as Big5
# (tests/intake/mail/test_charsets.py), so the rules above come first and it comes last.
GUESS_MIN_BYTES = 32
# Mail is never unlabelled UTF-16 or UTF-32 (their NUL bytes do not survive a mail server).
NEVER_GUESSED = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"]


def _guessed(data: bytes) -> str | None:
    """``data`` read by the charset charset-normalizer finds most likely (a GB or Big5 answer
    by its superset), or None when the bytes are too few to judge or it finds none."""
    if len(data) < GUESS_MIN_BYTES:
        return None
    # Imported at the first mail that needs it: ~2 MB no web process otherwise uses.
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_exclusion=NEVER_GUESSED).best()
    if best is None:
        return None
    for codec in codecs_for(best.encoding) or (best.encoding,):
        text = _strict(data, codec)
        if text is not None:
            return text
    return None


def decode_bytes(data: bytes, declared: str | None = None, *, errors: str = "replace") -> str:
    """``data`` as text (see decode_text); bytes no charset reads wholly are read by the one
    that reads the most of them (the declared one first), the rest replaced by ``errors``."""
    text = decode_text(data, declared)
    if text is not None:
        return text
    candidates = []
    for order, codec in enumerate((*codecs_for(declared), *DETECTION_ORDER)):
        try:
            read = data.decode(codec, errors="replace")
        except (UnicodeError, LookupError, ValueError):
            continue
        # Plausibility only breaks ties, judged on the start: a large binary part read as text
        # must not cost a Python loop over every character of every candidate.
        candidates.append((read.count("\ufffd"), _score(read[:4096], codec), order, codec))
    codec = min(candidates)[3] if candidates else "utf-8"
    return data.decode(codec, errors=errors)


ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


@dataclass(frozen=True)
class _Word:
    written: str  # the encoded-word as it appears in the header
    charset: str
    data: bytes | None  # None when its base64 is broken

    def continues(self, run: list[_Word]) -> bool:
        """Whether this word's bytes continue ``run``'s: clients split a multibyte character
        between words, even between labels of one family (gb2312 then GBK)."""
        last = run[-1]
        return (self.data is not None and last.data is not None
                and (last.charset.lower() == self.charset.lower()
                     or codecs_for(last.charset) == codecs_for(self.charset) != ()))


def _word(match: re.Match[str]) -> _Word:
    charset, encoding, text = match.group(1).split("*", 1)[0], match.group(2), match.group(3)
    data: bytes | None
    if encoding.lower() == "q":
        data = quopri.decodestring(text.replace("_", " ").encode("ascii", "surrogateescape"),
                                   header=True)
    else:
        unpadded = text.rstrip("=")  # clients drop or double the padding; anything else is
        try:                          # not base64, and is kept as written
            data = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
        except (binascii.Error, ValueError):
            data = None
    return _Word(match.group(0), charset, data)


def _run_text(run: list[_Word]) -> str:
    """Adjacent words decoded together; when no charset reads them, each alone, and a word no
    charset reads stays as it was written (a replacement character would hide what was sent)."""
    if all(word.data is not None for word in run):
        text = decode_text(b"".join(word.data or b"" for word in run), run[0].charset)
        if text is not None:
            return text
    if len(run) > 1:
        return "".join(_run_text([word]) for word in run)
    return _unencoded(run[0].written)


def _raw(text: str) -> bytes:
    """The bytes of a header as parsed (8-bit bytes were kept as surrogate escapes)."""
    return text.encode("utf-8", "surrogateescape")


def _unencoded(text: str) -> str:
    """Header text outside encoded-words: 8-bit bytes read by the most plausible charset, and
    bytes none reads as ``\\xff`` escapes."""
    return decode_bytes(_raw(text), errors="backslashreplace")


def decode_header(value: str) -> str:
    """A header's text: RFC 2047 encoded-words (consecutive words of one charset family joined
    before decoding, as clients split multibyte characters between them; the space between
    words dropped) and raw 8-bit text, unfolded."""
    value = re.sub(r"\r?\n[ \t]", " ", value)
    pieces: list[str] = []
    run: list[_Word] = []
    position = 0
    for match in ENCODED_WORD.finditer(value):
        between = value[position:match.start()]
        word = _word(match)
        if run and (between.strip() or not word.continues(run)):
            pieces.append(_run_text(run))
            run = []
        if between.strip() or (between and position == 0):
            pieces.append(_unencoded(between))
        run.append(word)
        position = match.end()
    if run:
        pieces.append(_run_text(run))
    pieces.append(_unencoded(value[position:]))
    return "".join(pieces).strip()
