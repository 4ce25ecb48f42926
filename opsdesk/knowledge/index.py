"""The search indexes themselves, on either database: what a document holds, how it is
written, and how a query and its ranking are spelled in SQL.

Two indexes share the machinery (``Table``): tickets and knowledge articles.

A ticket's document has four columns of pre-segmented words (``words.document_words``):
its title; its registration and resolution text; its public conversation (comments and
work-log steps the submitter sees); and what only department staff see (internal notes and
steps). A search by someone outside the department leaves the last column out, so that an
internal note never makes a ticket match for them. An article's document has two: its title,
and its problem, cause, solution and prevention.

- SQLite: an FTS5 table whose rowid is the ticket's (article's) id, the words joined by
  spaces and read by the ``unicode61`` tokenizer, with the characters that join a code kept
  inside words; ranked by ``bm25()`` with the title weighing most.
- PostgreSQL: a table of (id, tsvector) with a GIN index; the tsvector is written literally
  from the same words (weights A, B, … for the columns in order), so both databases index
  exactly the same words; ranked by ``ts_rank`` with the same order of weights.

A query asks for every word (a person's search) or for any of them (the problems similar to
a new one, ``Query.any``). ``ts_rank`` knows nothing of how rare a word is, which an
any-word query needs (a rare error code counts more than 订单): there the score is the sum,
over the words, of each word's ``ts_rank`` times its weight (``Query.weights``, its inverse
document frequency). BM25 weighs words by rarity itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, BooleanField, Expression
from django.db.models.sql.compiler import SQLCompiler

from opsdesk.knowledge.words import Query, document_words

# A document's words beyond this are not indexed: PostgreSQL refuses a tsvector over 1 MB, and
# a ticket that long is found by its first 20,000 words.
MAX_WORDS = 20_000
POSTGRES_WEIGHTS = "{0.2, 0.2, 0.4, 1.0}"  # ts_rank's order: D, C, B, A
# PostgreSQL keeps word positions up to this, and this many positions of one word.
_LAST_POSITION, _POSITIONS_PER_WORD = 16383, 255
# Scores are kept as integers (a billionth of the engine's score), so that a page's cursor
# holds them exactly.
SCALE = 1_000_000_000
# How many documents a word is counted in at most (``frequencies``): enough to tell a rare
# word from a common one, few enough to count in a millisecond or two.
COUNTED = 2_000


@dataclass(frozen=True)
class Table:
    """An index: its table, its columns of words (the weightiest first) with their relative
    weights for BM25, those that people outside the department may search, and the table of
    the rows it indexes (their ids are its rowids)."""

    name: str
    columns: tuple[str, ...]
    weights: tuple[float, ...]
    public_columns: tuple[str, ...]
    indexed: str

    @property
    def sqlite_table(self) -> str:
        return (f"CREATE VIRTUAL TABLE {self.name} USING fts5({', '.join(self.columns)}, "
                "tokenize = \"unicode61 remove_diacritics 0 tokenchars '-_.:/@#+'\")")

    @property
    def postgres_table(self) -> tuple[str, ...]:
        return (f"CREATE TABLE {self.name} (rowid bigint PRIMARY KEY, document tsvector "
                "NOT NULL)",
                f"CREATE INDEX {self.name}_document ON {self.name} USING gin (document)")

    @property
    def public_weights(self) -> str:
        """The tsvector weights of the public columns ("" when every column is public)."""
        if self.public_columns == self.columns:
            return ""
        return "".join("ABCD"[self.columns.index(name)] for name in self.public_columns)

    def create(self, cursor: Any, vendor: str) -> None:
        """Create the index on the database ``vendor`` (a migration's)."""
        for statement in self.postgres_table if vendor == "postgresql" else (self.sqlite_table,):
            cursor.execute(statement)


TICKETS = Table("knowledge_ticketindex", ("title", "body", "conversation", "internal"),
                (8.0, 3.0, 1.0, 1.0), ("title", "body", "conversation"), "tickets_ticket")
ARTICLES = Table("knowledge_articleindex", ("title", "body"), (8.0, 3.0), ("title", "body"),
                 "knowledge_article")

# The tickets' index, as migration 0001 and the tests name it.
TABLE = TICKETS.name
COLUMNS = TICKETS.columns
PUBLIC_COLUMNS = TICKETS.public_columns
SQLITE_WEIGHTS = TICKETS.weights
SQLITE_TABLE = TICKETS.sqlite_table
POSTGRES_TABLE = TICKETS.postgres_table


@dataclass(frozen=True)
class Document:
    """One row's words, per column of its index."""

    row_id: int
    columns: tuple[list[str], ...]

    @classmethod
    def of(cls, ticket_id: int, *, title: str, body: Iterable[str],
           conversation: Iterable[str], internal: Iterable[str]) -> Document:
        """A ticket's document."""
        return cls.of_texts(ticket_id, (title,), body, conversation, internal)

    @classmethod
    def of_texts(cls, row_id: int, *columns: Iterable[str]) -> Document:
        """The document of ``row_id`` whose columns hold these texts, in order."""
        room = MAX_WORDS
        words_by_column: list[list[str]] = []
        for texts in columns:
            words: list[str] = []
            for text in texts:
                if room > len(words):
                    words += document_words(text)[: room - len(words)]
            room -= len(words)
            words_by_column.append(words)
        return cls(row_id, tuple(words_by_column))


def write(documents: Sequence[Document], *, new: bool = False, table: Table = TICKETS) -> None:
    """Store ``documents``, replacing what the index held for their rows (``new``: it held
    nothing), in the caller's transaction."""
    if not documents:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.executemany(
                f"INSERT INTO {table.name} (rowid, document) VALUES (%s, %s::tsvector) "
                "ON CONFLICT (rowid) DO UPDATE SET document = EXCLUDED.document",
                [(d.row_id, _tsvector(d.columns)) for d in documents],
            )
            return
        if not new:
            delete(cursor, [d.row_id for d in documents], table=table)
        marks = ", ".join(["%s"] * (len(table.columns) + 1))
        cursor.executemany(
            f"INSERT INTO {table.name} (rowid, {', '.join(table.columns)}) VALUES ({marks})",
            [(d.row_id, *(" ".join(words) for words in d.columns)) for d in documents],
        )


def delete(cursor: Any, row_ids: Sequence[int], *, table: Table = TICKETS) -> None:
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        cursor.execute(
            f"DELETE FROM {table.name} WHERE rowid IN ({', '.join(['%s'] * len(chunk))})", chunk)


def clear(*, table: Table = TICKETS) -> None:
    """Empty the index (before a rebuild)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table.name}")


def drop_orphans(*, table: Table = TICKETS) -> None:
    """Remove the documents of rows that no longer exist."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table.name} WHERE rowid NOT IN "
                       f"(SELECT id FROM {table.indexed})")


def optimize(*, table: Table = TICKETS) -> None:
    """After a rebuild: SQLite merges the index's segments into one; PostgreSQL refreshes the
    planner's statistics of the table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table.name}")
        else:
            cursor.execute(f"INSERT INTO {table.name} ({table.name}) VALUES ('optimize')")


def _tsvector(columns: Sequence[list[str]]) -> str:
    positions: dict[str, list[str]] = {}
    position = 0
    for weight, words in zip("ABCD", columns, strict=False):
        for word in words:
            position = min(position + 1, _LAST_POSITION)
            seen = positions.setdefault(word, [])
            if len(seen) < _POSITIONS_PER_WORD:
                seen.append(f"{position}{weight}")
    return " ".join(f"'{_quoted(word)}':{','.join(at)}" for word, at in positions.items())


def _quoted(word: str) -> str:
    return word.replace("\\", "\\\\").replace("'", "''")


def _restricted(table: Table, staff: bool) -> bool:
    return not staff and table.public_columns != table.columns


def fts5_query(query: Query, *, staff: bool, table: Table = TICKETS) -> str:
    """The FTS5 expression: every word (or any, ``query.any``), each quoted so that it is one
    token whatever it holds, in the columns ``staff`` or not may search."""
    words = f" {'OR' if query.any else 'AND'} ".join(f'"{word}"' for word in query.words)
    if not _restricted(table, staff):
        return words
    return f"{{{' '.join(table.public_columns)}}} : ({words})"


def tsquery(query: Query, *, staff: bool, table: Table = TICKETS) -> str:
    """The tsquery: every word (or any), as a literal lexeme; outside staff, the public
    columns' weights only."""
    return f" {'|' if query.any else '&'} ".join(
        _lexeme(word, staff=staff, table=table) for word in query.words)


def _lexeme(word: str, *, staff: bool, table: Table) -> str:
    weights = table.public_weights if _restricted(table, staff) else ""
    return f"'{_quoted(word)}'{':' + weights if weights else ''}"


def _alias(compiler: SQLCompiler, table: Table) -> str:
    """The alias of the index table joined to the query being compiled."""
    aliases = compiler.query.table_map.get(table.name)
    if not aliases:
        raise ValueError(f"the query does not join {table.name} (filter on search_index first)")
    return compiler.quote_name_unless_alias(aliases[0])


def _bm25(reference: str, table: Table) -> str:
    weights = ", ".join(str(w) for w in table.weights)
    # bm25() is lower for better matches.
    return f"CAST(-{SCALE} * bm25({reference}, {weights}) AS INTEGER)"


def _ts_rank(document: str, query: Query, *, staff: bool,
             table: Table) -> tuple[str, list[Any]]:
    """The score of ``document`` (a column reference) on PostgreSQL, and its parameters."""
    if not query.any or not query.weights:
        return (f"CAST({SCALE} * ts_rank('{POSTGRES_WEIGHTS}', {document}, %s::tsquery, 1) "
                "AS bigint)", [tsquery(query, staff=staff, table=table)])
    terms = " + ".join(
        f"{weight:.6f} * ts_rank('{POSTGRES_WEIGHTS}', {document}, %s::tsquery, 1)"
        for weight in query.weights)
    return (f"CAST({SCALE} * ({terms}) AS bigint)",
            [_lexeme(word, staff=staff, table=table) for word in query.words])


class Matches(Expression):
    """True for the rows whose document holds every word of ``query`` (any, ``query.any``);
    the query must join the index (``search_index__isnull=False``)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, query: Query, *, staff: bool, table: Table = TICKETS) -> None:
        super().__init__()
        self.query, self.staff, self.table = query, staff, table

    def as_sqlite(self, compiler: SQLCompiler,
                  connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        return (f"{_alias(compiler, self.table)}.{self.table.name} MATCH %s",
                [fts5_query(self.query, staff=self.staff, table=self.table)])

    def as_postgresql(self, compiler: SQLCompiler,
                      connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        return (f"{_alias(compiler, self.table)}.document @@ %s::tsquery",
                [tsquery(self.query, staff=self.staff, table=self.table)])


class Score(Expression):
    """How well a matching row answers ``query``, higher first, as an integer."""

    output_field = BigIntegerField()

    def __init__(self, query: Query, *, staff: bool, table: Table = TICKETS) -> None:
        super().__init__()
        self.query, self.staff, self.table = query, staff, table

    def as_sqlite(self, compiler: SQLCompiler,
                  connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        return _bm25(f"{_alias(compiler, self.table)}.{self.table.name}", self.table), []

    def as_postgresql(self, compiler: SQLCompiler,
                      connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        return _ts_rank(f"{_alias(compiler, self.table)}.document", self.query,
                        staff=self.staff, table=self.table)


def ranked_among(row_ids: Sequence[int], query: Query, *, staff: bool,
                 table: Table = TICKETS) -> list[tuple[int, int]]:
    """(id, score) of those of ``row_ids`` (a few thousand at most: a submitter's own
    tickets, a small queue) that match ``query``. SQLite walks every match of the query and
    keeps those among the ids, scoring only them: looking each id up in the index instead
    costs a seek per word per id, 0.6 ms each for a word in most tickets (measured)."""
    if not row_ids or not query.words:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            score, params = _ts_rank("document", query, staff=staff, table=table)
            cursor.execute(
                f"SELECT rowid, {score} FROM {table.name} "
                "WHERE rowid = ANY(%s) AND document @@ %s::tsquery",
                [*params, list(row_ids), tsquery(query, staff=staff, table=table)],
            )
        else:
            # "+rowid": the ids are a filter on the walk, not a lookup per id.
            cursor.execute(
                f"SELECT rowid, {_bm25(table.name, table)} "
                f"FROM {table.name} WHERE {table.name} MATCH %s "
                "AND +rowid IN (SELECT value FROM json_each(%s))",
                [fts5_query(query, staff=staff, table=table), _json_ids(row_ids)],
            )
        return [(int(row_id), int(score)) for row_id, score in cursor.fetchall()]


def frequencies(words: Sequence[str], *, table: Table = TICKETS) -> tuple[int, list[int]]:
    """How many documents the index holds (about: its largest id, as counting them would read
    them all), and in how many of them each word occurs, counted up to ``COUNTED``. One
    statement, each count a walk of at most COUNTED entries of the word's list."""
    if not words:
        return 0, []
    match = ("document @@ %s::tsquery" if connection.vendor == "postgresql"
             else f"{table.name} MATCH %s")
    counts = " UNION ALL ".join(
        f"SELECT {i}, count(*) FROM (SELECT 1 FROM {table.name} WHERE {match} "
        f"LIMIT {COUNTED}) AS w{i}" for i in range(len(words)))
    literal = (_lexeme if connection.vendor == "postgresql" else _phrase)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {table.name} ORDER BY rowid DESC LIMIT 1")
        last = cursor.fetchone()
        total = int(last[0]) if last else 0
        cursor.execute(counts, [literal(word, staff=True, table=table) for word in words])
        found = dict(cursor.fetchall())
    return total, [int(found.get(i, 0)) for i in range(len(words))]


def _phrase(word: str, *, staff: bool, table: Table) -> str:
    return f'"{word}"'


def _json_ids(row_ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in row_ids) + "]"
