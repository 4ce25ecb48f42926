"""How text becomes search words: Chinese by dictionary words, codes kept whole, the same way
for documents and queries."""

import pytest

from opsdesk.knowledge.models import SearchTerm
from opsdesk.knowledge.words import document_words, query_words
from tests.factories import ModuleFactory


@pytest.fixture(autouse=True)
def _dictionary(db):
    """The segmenter reads the dictionary terms from the database."""


@pytest.mark.parametrize(("query", "document"), [
    ("报表导出", "导出月度报表时卡住"),
    ("消息队列积压", "队列里的消息大量积压"),
])
def test_a_query_and_a_document_meet_on_words_in_any_order(query, document):
    assert set(query_words(query)) <= set(document_words(document))


def test_a_query_asks_for_the_shorter_words_within_a_long_one():
    assert query_words("消息队列积压") == ["消息", "队列", "积压"]
    assert {"消息队列", "消息", "队列"} <= set(document_words("消息队列积压"))


def test_codes_are_kept_whole_beside_their_parts():
    assert document_words("ORA-01555: snapshot too old") == [
        "ora-01555", "ora", "01555", "snapshot", "too", "old"]
    assert query_words("ORA-01555") == ["ora-01555"]
    assert query_words("HTTP 502") == ["http", "502"]
    assert "10.0.3.15" in document_words("[告警] 10.0.3.15 磁盘使用率超过 90%")


def test_full_width_and_case_are_folded():
    assert query_words("ＨＴＴＰ　５０２") == ["http", "502"]
    assert query_words("NullPointerException") == ["nullpointerexception"]


def test_function_words_and_punctuation_are_not_searched():
    assert query_words("的，了！") == []
    assert "的" not in document_words("队列里的消息")


def test_an_administrators_term_is_kept_whole_from_the_next_read():
    assert query_words("云枢告警") == ["云", "枢", "告警"]

    SearchTerm.objects.create(word="云枢")

    assert query_words("云枢告警") == ["云枢", "告警"]


def test_a_modules_name_is_a_word(people):
    assert "星舟平台" not in query_words("星舟平台打不开")

    ModuleFactory(code="hub", name="星舟平台", owner=people["owner"])

    assert "星舟平台" in query_words("星舟平台打不开")
