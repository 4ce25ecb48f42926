"""Broken mail, as broken mail servers, clients and attackers send it: multiparts that cannot be
split, messages cut short, bad encoded-words, impossible dates, a parser bomb. Each builder
returns the raw bytes and what a reader should still get from them (as in corpus.py)."""

from __future__ import annotations

from tests.intake.mail.corpus import (
    CRLF,
    Built,
    Part,
    b64_body,
    message,
    new_id,
    text_part,
    word,
)

TEXT = "您好：\n数据库连接池耗尽，订单无法提交。\n请尽快处理，谢谢！"
SENDER = "wangfang@corp.example"


def _headers(subject: str) -> list[tuple[str, str]]:
    return [("From", f'"{word("王芳", "gb2312")}" <{SENDER}>'), ("To", "helpdesk@corp.example"),
            ("Subject", word(subject, "utf-8"))]


def _gbk(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("gbk")


def multipart_without_boundary() -> Built:
    """``multipart/mixed`` with no boundary parameter and a raw 8-bit GBK body: the message
    that stopped every IMAP poll (re-serialising it to measure its size raised)."""
    subject = "缺少分隔符的邮件"
    body = Part([("Content-Type", "multipart/mixed"), ("Content-Transfer-Encoding", "8bit")],
                _gbk(TEXT) + CRLF)
    return Built(message(_headers(subject), body, message_id=new_id()), subject, SENDER, TEXT)


def _parts(boundary: str, file_name: str, content: bytes) -> bytes:
    text = text_part(TEXT, charset="gbk", cte="8bit")
    attached = Part([("Content-Type", f'application/octet-stream; name="{file_name}"'),
                     ("Content-Disposition", f'attachment; filename="{file_name}"'),
                     ("Content-Transfer-Encoding", "base64")], b64_body(content))
    delimiter = b"--" + boundary.encode()
    return (delimiter + CRLF + text.render() + CRLF + delimiter + CRLF + attached.render()
            + CRLF + delimiter + b"--" + CRLF)


def multipart_with_wrong_boundary() -> Built:
    """The parts are delimited by another boundary than the one declared."""
    subject = "分隔符不对的邮件"
    files = {"error.log": b"ERROR pool exhausted\n"}
    body = Part([("Content-Type", 'multipart/mixed; boundary="declared-boundary-1"')],
                _parts("actual-boundary-2", "error.log", files["error.log"]))
    return Built(message(_headers(subject), body, message_id=new_id()), subject, SENDER, TEXT,
                 files)


def multipart_with_boundary_in_preamble_only() -> Built:
    """A boundary parameter, but no part delimiter anywhere: only text follows."""
    subject = "只有正文的多部分邮件"
    body = Part([("Content-Type", 'multipart/alternative; boundary="never-used"'),
                 ("Content-Transfer-Encoding", "8bit")], _gbk(TEXT) + CRLF)
    return Built(message(_headers(subject), body, message_id=new_id()), subject, SENDER, TEXT)


def truncated_multipart() -> Built:
    """Cut short inside its second part (a server's disk filled up): no closing delimiter."""
    subject = "被截断的邮件"
    whole = _parts("cut-boundary", "report.bin", b"\x00\x01" * 400)
    body = Part([("Content-Type", 'multipart/mixed; boundary="cut-boundary"')],
                whole[:whole.index(b"base64" + CRLF) + 60])
    return Built(message(_headers(subject), body, message_id=new_id()), subject, SENDER, TEXT)


def forwarded_broken_message() -> Built:
    """A forward whose attached message is itself a multipart without boundary, in 8 bits."""
    subject = "转发：坏邮件"
    inner = multipart_without_boundary().raw
    outer = Part([("Content-Type", 'multipart/mixed; boundary="outer"')],
                 b"--outer" + CRLF + text_part(TEXT, charset="utf-8").render() + CRLF
                 + b"--outer" + CRLF + Part([("Content-Type", "message/rfc822")], inner).render()
                 + CRLF + b"--outer--" + CRLF)
    return Built(message(_headers(subject), outer, message_id=new_id()), subject, SENDER, TEXT)


# Encoded-words that cannot be read as written, and what the title keeps of each: its raw text
# when no charset reads it, never U+FFFD.
BAD_WORDS = {
    "bad base64": ("服务器告警 =?utf-8?B?5pW=w5o2u?=", "服务器告警 =?utf-8?B?5pW=w5o2u?="),
    "unknown charset": ("=?x-klingon?B?/w==?= 磁盘满了", "=?x-klingon?B?/w==?= 磁盘满了"),
    "not a text codec": ("=?rot13?B?/w==?= 磁盘满了", "=?rot13?B?/w==?= 磁盘满了"),
    "idna": ("=?idna?Q?xn--=FF?= 磁盘", "=?idna?Q?xn--=FF?= 磁盘"),
    "character cut between words with text between": (
        "=?utf-8?B?5pWw5o2u5b?= x =?utf-8?B?k5Lpk74=?=",
        "=?utf-8?B?5pWw5o2u5b?= x =?utf-8?B?k5Lpk74=?="),
    "character cut between two labels of one family": (
        "=?gb2312?B?yv2+3b8=?= =?GBK?B?4sGsvdM=?=", "数据库连接"),
    "8-bit garbage": ("告警 \udcff\udcfe 磁盘", "告警 \\xff\\xfe 磁盘"),
}


def _utf8_header(text: str) -> str:
    """``text`` as a header written in 8-bit UTF-8 (surrogate escapes are the bytes they
    stand for)."""
    return text.encode("utf-8", "surrogateescape").decode("ascii", "surrogateescape")


def subject_with(raw_subject: str) -> bytes:
    """A plain UTF-8 mail whose Subject header is ``raw_subject`` in UTF-8 bytes (surrogate
    escapes as the bytes they stand for)."""
    headers = [("From", SENDER), ("To", "helpdesk@corp.example"),
               ("Subject", _utf8_header(raw_subject))]
    return message(headers, text_part(TEXT, charset="utf-8"), message_id=new_id())


# Date headers intake must survive: far future, year one, nonsense, out-of-range parts.
BAD_DATES = {
    "year 9999": "Fri, 31 Dec 9999 23:59:59 -1200",
    "year 1": "Mon, 01 Jan 0001 00:00:00 +1400",
    "nonsense": "明天下午三点",
    "impossible day": "Thu, 31 Feb 2026 25:61:61 +0800",
    "huge offset": "Wed, 25 Nov 2026 09:41:07 +9999",
    "empty": "",
}


def dated(date: str) -> Built:
    subject = "日期异常的邮件"
    raw = message(_headers(subject), text_part(TEXT, charset="utf-8"), message_id=new_id(),
                  date=_utf8_header(date))
    return Built(raw, subject, SENDER, TEXT)


def parser_bomb(depth: int = 3000) -> Built:
    """Multiparts nested deeper than Python's recursion limit: the standard library's parser
    raises RecursionError on it."""
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n)
                      for n in range(depth))
    raw = (f"From: {SENDER}\r\nSubject: nested\r\nMessage-ID: {new_id()}\r\n".encode()
           + nested + b"Content-Type: text/plain\r\n\r\nhi\r\n")
    return Built(raw, "nested", SENDER, "hi")


def every_broken_message() -> dict[str, Built]:
    """The broken messages that still carry a readable problem, by what is wrong."""
    return {
        "no boundary": multipart_without_boundary(),
        "wrong boundary": multipart_with_wrong_boundary(),
        "no delimiter": multipart_with_boundary_in_preamble_only(),
        "truncated": truncated_multipart(),
        "forwarded broken": forwarded_broken_message(),
    }
