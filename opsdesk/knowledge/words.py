"""Text to search words, the same way for what is indexed and what people type.

Chinese is segmented into words by rjieba (jieba's Rust port) in search mode, without HMM
guessing: a dictionary decides, so 导出月度报表时卡住 and 报表导出 meet on 报表 and 导出 whatever
surrounds them. Other text is split into words of letters and digits, and a code joined by
``- _ . : / @ # +`` (ORA-01555, 10.0.3.15, user_id) is kept whole beside its parts. Everything is
NFKC-normalised (full-width ＨＴＴＰ is HTTP) and lower-cased.

The segmenter is built on first use in each process, from the 100,000 most frequent words of
jieba's dictionary (``words/jieba_100k.txt``), the operations vocabulary that dictionary lacks
(``words/ops_terms.txt``), the modules' names and the terms administrators add
(``SearchTerm``); it is rebuilt when the configuration generation shows one of those changed.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from opsdesk.runtime import config

WORDS = Path(__file__).parent / "words"
# Words too common to tell tickets apart; dropped from documents and queries alike.
STOPWORDS = frozenset("的地得了着过是在和与及或也都就而把被让吗呢吧啊呀请之")
# Longer words (a pasted hash, a base64 blob) are not searchable: they would only bloat the index.
MAX_WORD = 64
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECE = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+(?:[-_.:/@#+][^\W_{_HAN}]+)*")
_PART = re.compile(rf"[^\W_{_HAN}]+")
_IS_HAN = re.compile(rf"[{_HAN}]")


@cache
def _jieba_class() -> Any:
    """rjieba's segmenter class. Importing the rjieba package builds a default segmenter with
    jieba's whole dictionary (33 MB in every process that imports it, measured); the compiled
    module alone costs 1 MB, and a segmenter with opsdesk's dictionary about 8 MB."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("rjieba is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = next(p for suffix in importlib.machinery.EXTENSION_SUFFIXES
                for p in folder.glob(f"rjieba{suffix}"))
    loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
    module_spec = importlib.util.spec_from_loader("rjieba.rjieba", loader)
    assert module_spec is not None
    module = importlib.util.module_from_spec(module_spec)
    loader.exec_module(module)
    sys.modules["rjieba.rjieba"] = module
    return module.Jieba


def builtin_terms() -> list[str]:
    lines = (WORDS / "ops_terms.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def han_words(term: str) -> list[str]:
    """The Chinese words of a dictionary term: 'OA审批流' adds 审批流 (the rest is split
    by the rules for letters and digits anyway)."""
    return [run for run in re.findall(rf"[{_HAN}]+", unicodedata.normalize("NFKC", term))
            if len(run) > 1]


class Segmenter:
    """A jieba segmenter with opsdesk's dictionary plus ``terms``."""

    def __init__(self, terms: frozenset[str]) -> None:
        self.terms = terms
        self.jieba = _jieba_class().empty()
        with (WORDS / "jieba_100k.txt").open(encoding="utf-8") as words:
            for line in words:
                word, frequency = line.split()
                self.jieba.add_word(word, int(frequency), None)
        for term in (*builtin_terms(), *sorted(terms)):
            for word in han_words(term):
                # No frequency: jieba suggests one high enough to keep the word whole.
                self.jieba.add_word(word, None, None)

    def spans(self, han: str) -> list[tuple[str, int, int]]:
        """Search-mode words of a run of Chinese characters, with their spans."""
        return [(w, start, end) for w, start, end in self.jieba.tokenize(han, "search", False)]


_lock = threading.Lock()
_segmenter: Segmenter | None = None


def segmenter() -> Segmenter:
    """This process's segmenter, rebuilt when the dictionary terms changed."""
    global _segmenter
    terms = config.cached("knowledge.dictionary", _dictionary_terms)
    current = _segmenter
    if current is not None and current.terms == terms:
        return current
    with _lock:
        if _segmenter is None or _segmenter.terms != terms:
            _segmenter = Segmenter(terms)
        return _segmenter


def _dictionary_terms() -> frozenset[str]:
    from opsdesk.knowledge.selectors import dictionary_terms

    return frozenset(dictionary_terms())


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _keep(word: str) -> bool:
    return len(word) <= MAX_WORD and word not in STOPWORDS


def document_words(text: str) -> list[str]:
    """Every search word of ``text`` in order, a code followed by its parts, a long Chinese
    word by the shorter words within it (search mode)."""
    if not text:
        return []
    words: list[str] = []
    jieba = None
    for match in _PIECE.finditer(_normal(text)):
        piece = match.group()
        if _IS_HAN.match(piece):
            jieba = jieba or segmenter()
            words += [w for w, _s, _e in jieba.spans(piece) if _keep(w)]
        else:
            words.append(piece)
            parts = _PART.findall(piece)
            if len(parts) > 1:
                words += parts
    return [w for w in words if _keep(w)]


def query_words(text: str) -> list[str]:
    """The words a document must all contain to match ``text``, each once. Of a Chinese word
    whose shorter words cover it, only those: 消息队列积压 asks for 消息, 队列 and 积压, so that
    队列里的消息大量积压 matches; a code is asked for whole (ORA-01555)."""
    words: list[str] = []
    jieba = None
    for match in _PIECE.finditer(_normal(text)):
        piece = match.group()
        if _IS_HAN.match(piece):
            jieba = jieba or segmenter()
            words += _finest(jieba.spans(piece))
        else:
            words.append(piece)
    return list(dict.fromkeys(w for w in words if _keep(w)))


def _finest(spans: list[tuple[str, int, int]]) -> list[str]:
    """The words of ``spans`` not covered end to end by shorter words among them."""
    kept = []
    for word, start, end in spans:
        inner = sorted((s, e) for _w, s, e in spans
                       if start <= s and e <= end and (s, e) != (start, end))
        reach = start
        for s, e in inner:
            if s <= reach:
                reach = max(reach, e)
        if reach < end:
            kept.append(word)
    return kept


@dataclass(frozen=True)
class Query:
    """What someone typed, as the words a match needs: all of them, or any (``any``), each
    then weighing as much as its entry in ``weights`` (how rare it is; none: all alike)."""

    text: str
    words: tuple[str, ...]
    any: bool = False
    weights: tuple[float, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Query:
        return cls(text, tuple(query_words(text)))

    @classmethod
    def any_of(cls, words: tuple[str, ...], weights: tuple[float, ...]) -> Query:
        """A query matching a document that holds any of ``words``."""
        if len(weights) != len(words):
            raise ValueError("one weight per word")
        return cls(" ".join(words), words, any=True, weights=weights)
