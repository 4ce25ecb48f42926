"""Random Chinese text, encoded the ways Chinese mail clients encode it (and mislabel it),
decodes exactly: in bodies (base64, quoted-printable, 8 bit) and in headers (RFC 2047)."""

from __future__ import annotations

import base64
import quopri

import pytest
from charset_normalizer import from_bytes
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from opsdesk.intake.mail.charsets import decode_bytes, decode_header
from opsdesk.intake.mail.parsing import parse
from tests.intake.mail.corpus import Part, eight_bit, message, text_part, word


def _encodable(codec: str) -> st.SearchStrategy[str]:
    def fits(char: str) -> bool:
        try:
            char.encode(codec)
        except UnicodeEncodeError:
            return False
        return True

    return st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF).filter(fits)


PUNCTUATION = st.sampled_from(list("，。：；！？“”（）、 0123456789ABCxyz-\n"))
RARE = st.sampled_from(list("𠀀䶮𡃁𠮷㐀䴙𪚥"))  # GB18030 four-byte characters (Ext. A and B)


def chinese(codec: str, *, rare: bool = False) -> st.SearchStrategy[str]:
    alphabet = st.one_of(_encodable(codec), PUNCTUATION, *([RARE] if rare else []))
    return st.text(alphabet, min_size=1, max_size=60)


@given(chinese("gb2312"))
def test_gb2312_text_labelled_gb2312(text: str) -> None:
    assert decode_bytes(text.encode("gb2312"), "gb2312") == text


@given(chinese("gbk"))
def test_gbk_text_labelled_gb2312_as_outlook_does(text: str) -> None:
    assert decode_bytes(text.encode("gbk"), "gb2312") == text


@given(chinese("gb18030", rare=True))
def test_gb18030_four_byte_characters_labelled_gb2312(text: str) -> None:
    assert decode_bytes(text.encode("gb18030"), "gb2312") == text
    assert decode_bytes(text.encode("gb18030"), "GBK") == text
    assert decode_bytes(text.encode("gb18030"), "gb18030") == text


@given(chinese("gb18030", rare=True))
def test_utf8_text(text: str) -> None:
    assert decode_bytes(text.encode("utf-8"), "utf-8") == text
    assert decode_bytes(text.encode("utf-8"), None) == text


@given(chinese("big5"))
def test_big5_text_labelled_big5(text: str) -> None:
    assert decode_bytes(text.encode("big5"), "big5") == text


@given(chinese("cp950"))
def test_windows_big5_labelled_big5(text: str) -> None:
    assert decode_bytes(text.encode("cp950"), "big5") == text


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# When the label is wrong or missing, the bytes alone decide. Bytes that are valid UTF-8 too
# are UTF-8 as far as anyone can tell, and a lone rare GBK character can equally be a common
# Big5 one; what people write (GB2312's characters, GB18030's four-byte ones) is never
# ambiguous that way.
@given(chinese("gb2312", rare=True))
def test_gb_text_labelled_utf8(text: str) -> None:
    data = text.encode("gb18030")
    assume(_not_utf8(data))
    assert decode_bytes(data, "utf-8") == text


@given(chinese("gb2312", rare=True))
def test_unlabelled_gb_text_is_detected(text: str) -> None:
    data = text.encode("gb18030")
    assume(_not_utf8(data))
    assert decode_bytes(data, None) == text


def test_unlabelled_big5_sentence_is_detected() -> None:
    sentence = "您好，資料庫連線失敗，報表無法匯出。請協助處理，謝謝！"
    assert decode_bytes(sentence.encode("big5"), None) == sentence
    assert decode_bytes(sentence.encode("big5"), "utf-8") == sentence


def test_unknown_label_and_broken_bytes_never_fail() -> None:
    assert decode_bytes("中文".encode("gbk"), "x-unknown-charset") == "中文"
    assert "\ufffd" in decode_bytes(b"\xff\xfe\xfd\x80", "utf-8")


@given(chinese("gb18030", rare=True),
       st.sampled_from([("gb2312", "gb18030"), ("GBK", "gb18030"), ("gb18030", "gb18030"),
                        ("utf-8", "utf-8")]),
       st.sampled_from(["B", "Q"]))
def test_encoded_word_headers(text: str, labels: tuple[str, str], encoding: str) -> None:
    text = text.replace("\n", " ").strip()
    assume(text)
    label, codec = labels
    assert decode_header(word(text, label, codec=codec, encoding=encoding)) == text


@given(chinese("gbk"))
def test_encoded_words_split_inside_a_character_are_joined(text: str) -> None:
    text = text.replace("\n", " ").strip()
    assume(len(text.encode("gbk")) > 1)
    data = text.encode("gbk")
    middle = len(data) // 2
    header = " ".join(f"=?gb2312?B?{base64.b64encode(piece).decode()}?="
                      for piece in (data[:middle], data[middle:]))
    assert decode_header(header) == text


@given(chinese("gb2312", rare=True))
def test_raw_eight_bit_subject(text: str) -> None:
    subject = text.replace("\n", " ").strip()
    assume(subject)
    raw = message([("From", "a@corp.example"), ("Subject", eight_bit(subject, "gb18030"))],
                  text_part("x", charset="utf-8"))
    assert parse(raw).subject == subject


@settings(max_examples=60)
@given(chinese("gb18030", rare=True),
       st.sampled_from([("gb2312", "gb18030"), ("GBK", "gb18030"), ("gb18030", "gb18030"),
                        ("utf-8", "utf-8"), ("big5", "cp950")]),
       st.sampled_from(["base64", "quoted-printable", "8bit"]))
def test_bodies_in_every_transfer_encoding(text: str, labels: tuple[str, str], cte: str) -> None:
    label, codec = labels
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        assume(False)
    assume(text.strip())
    raw = message([("From", "a@corp.example"), ("Subject", "x")],
                  text_part(text, charset=label, codec=codec, cte=cte))
    assert parse(raw).text == text.strip()


def test_quoted_printable_soft_breaks_inside_a_character() -> None:
    text = "数据库连接池耗尽" * 12
    encoded = quopri.encodestring(text.encode("gbk"))  # lines of 76 split the bytes anywhere
    assert b"=\n" in encoded
    assert decode_bytes(quopri.decodestring(encoded), "gb2312") == text


def test_a_stray_byte_spoils_one_character_not_the_charset() -> None:
    text = "数据库连接失败，请处理"
    assert decode_bytes(text.encode() + b"\xff" + text.encode()) == f"{text}\ufffd{text}"
    mislabelled = text.encode("gbk") + b"\xff" + text.encode("gbk")
    assert decode_bytes(mislabelled, "utf-8") == f"{text}\ufffd{text}"


def test_unreadable_header_bytes_are_escaped_not_replaced() -> None:
    raw = "告警 ".encode() + b"\xff" + " 磁盘".encode()
    assert decode_header(raw.decode("ascii", "surrogateescape")) == "告警 \\xff 磁盘"


HEADER_PIECES = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["=?", "?=", "?B?", "?Q?", "?b?", "utf-8", "gb2312", "GBK", "big5", "rot13",
                     "idna", "utf-7", "unicode_escape", "=5Cudc80", "x-unknown", "=FF", "=E6=95",
                     "/w==", "5pWw", "yv2+", " ", "\r\n ", "\udcff", "\udce6\udc95"]),
)


@settings(max_examples=300)
@given(st.lists(HEADER_PIECES, max_size=16).map("".join))
@example("=?unicode_escape?Q?=5Cudc80=FF?=")  # a "charset" that makes lone surrogates
def test_any_header_decodes_to_storable_text(value: str) -> None:
    decoded = decode_header(value)
    decoded.encode("utf-8")  # no lone surrogate: every undecoded byte became visible text


UNLABELLED_MAIL = {
    "gbk": "各位好：\n生产环境 Redis 内存使用率 95%，请尽快处理。\n附件是日志，谢谢！",
    "big5": "您好，資料庫連線失敗，報表無法匯出。\n請協助處理，謝謝！",
    "utf-8": "您好，支付接口超时，生僻字 䶮 显示异常。\n请协助处理。",
    "shift_jis": "お世話になっております。\nサーバーの接続に失敗しました。ご確認ください。",
    "cp1251": "Ошибка подключения к базе данных, повторите попытку позже.",
}


@pytest.mark.parametrize("codec", UNLABELLED_MAIL)
def test_an_unlabelled_mail_body_is_decoded_exactly(codec: str) -> None:
    text = UNLABELLED_MAIL[codec]
    body = Part([("Content-Type", "text/plain"), ("Content-Transfer-Encoding", "8bit")],
                text.replace("\n", "\r\n").encode(codec))
    raw = message([("From", "a@corp.example"), ("Subject", "x")], body)
    assert parse(raw).text == text


@pytest.mark.parametrize(("text", "codec"), [
    ("您好", "gb18030"), ("数据库连接失败，请处理", "gbk"), ("磁盘已满", "gb18030"),
])
def test_short_chinese_is_read_by_the_gb_rules_which_charset_normalizer_gets_wrong(
        text: str, codec: str) -> None:
    # Why the GB18030/Big5 rules come before charset-normalizer: on a subject's worth of
    # text it answers Big5 or CP949. When this first assertion fails, it has learnt better.
    best = from_bytes(text.encode(codec)).best()
    assert best is None or str(best) != text
    assert decode_bytes(text.encode(codec)) == text
