"""Search candidates on PostgreSQL: the GIN indexes of the PostgreSQL schema.

The same plan as SQLite's FTS5 (`sqlite_search.py`), on indexes PostgreSQL has: a
`to_tsvector('simple', search_text)` index for every word (`patients_words`), one for the
words after the first (`patients_rest`), and a trigram index for phone digits anywhere in
the number (`patients_digits`). `search_text` is already folded by the domain (lower case,
no diacritics), so the `simple` configuration (no stemming, no stop words) keeps every word
as it is; `unaccent` is not used: Python's `fold` stays the one definition of
"diacritic-insensitive" (the two differ: `unaccent` turns ł into l, `fold` keeps it).

No SQL here depends on psycopg: the engine runs it like any other statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from kinesio_tui.data.db import ClinicDB

#: A typed word's first token, as the server's own parser reads it. The parser's tokens are
#: not simply runs of letters: '/gx' is a file path, 'st.john' a host, 'jonas-petras' a
#: hyphenated word (with its parts as further tokens). Read left to right, the first token of
#: a typed word is a prefix of the first token of every stored word that starts with it
#: ('/g' of '/gx', 'st' or 'st.j' of 'st.john'), so a prefix query on it never misses a
#: match; the domain's rule then removes the extra hits, as it does SQLite's. (Splitting the
#: word in Python at anything but a letter or digit lost '/gx' for '/g', found by the random
#: clinic test.)
_FIRST_TOKENS = (
    "SELECT (SELECT lexeme FROM unnest(to_tsvector('simple', w)) AS t "
    "ORDER BY positions[1] LIMIT 1) FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS q(w, n) "
    "ORDER BY n"
)


#: A word of ASCII letters only is one token, itself, whatever the database's locale (which
#: decides what else the parser counts as a letter): asking the server for it is a round
#: trip per keystroke that tells nothing (two, with the later-word lookup).
_PLAIN_WORD = frozenset("abcdefghijklmnopqrstuvwxyz")


def _terms(db: ClinicDB, words: Sequence[str]) -> list[str | None]:
    """Each word as a tsquery prefix term (the parser's lexeme, given as a tsquery literal so
    it is not parsed again), or None for a word with no token to look up."""
    if all(word and _PLAIN_WORD.issuperset(word) for word in words):
        lexemes: list[str | None] = list(words)
    else:
        lexemes = [lexeme for (lexeme,) in db.execute(_FIRST_TOKENS, [list(words)]).fetchall()]
    return [
        "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "':*" if lexeme else None
        for lexeme in lexemes
    ]


def _all(terms: Sequence[str | None]) -> str | None:
    found = [t for t in terms if t is not None]
    return " & ".join(found) if found else None


def _ids(db: ClinicDB, sql: str, params: list[object], cap: int) -> set[int] | None:
    rows = db.execute(f"{sql} LIMIT ?", [*params, cap + 1]).fetchall()
    return None if len(rows) > cap else {int(row[0]) for row in rows}


def digit_candidates(db: ClinicDB, digits: Sequence[str], cap: int) -> set[int] | None:
    """Rows whose text holds every run of digits (each 3 or more long), or None: too many."""
    where = " AND ".join("search_text LIKE ?" for _ in digits)
    return _ids(db, f"SELECT id FROM patients WHERE {where}", [f"%{d}%" for d in digits], cap)


_WORDS = "to_tsvector('simple', search_text) @@ CAST(? AS tsquery)"
_LATER = (
    "to_tsvector('simple', substr(search_text, strpos(search_text, ' ') + 1)) @@ CAST(? AS tsquery)"
)


def word_candidates(db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None:
    """Rows where each word is a prefix of some word of the text, or None: too many."""
    query = _all(_terms(db, words))
    if query is None:
        return None
    return _ids(db, f"SELECT id FROM patients WHERE {_WORDS}", [query], cap)


def later_word_candidates(db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None:
    """Rows where the first word is a prefix of a word after the text's first, and every
    other word of some word, or None: too many."""
    first, *others = _terms(db, words)
    later = _all([first])
    if later is None:
        return None
    other = _all(others)
    if other is None:
        return _ids(db, f"SELECT id FROM patients WHERE {_LATER}", [later], cap)
    return _ids(db, f"SELECT id FROM patients WHERE {_LATER} AND {_WORDS}", [later, other], cap)


def id_list(alias: str) -> str:
    """A list of ids as a table `alias` with one column `value`, from one parameter
    (`id_list_param`)."""
    return f"unnest(CAST(? AS bigint[])) AS {alias}(value)"


def id_list_param(ids: Sequence[int]) -> list[int]:
    return list(ids)


ID_LIST_JOIN = "JOIN"
