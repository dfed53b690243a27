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

import re
from collections.abc import Sequence

from kinesio_tui.data.db import ClinicDB

#: The parser splits text into tokens at anything that is not a letter or digit; a typed
#: word's first run of letters and digits is therefore a prefix of a token of every stored
#: word that starts with the typed word (a host such as 'st.john' or a hyphenated
#: 'jonas-petras' is a token that still starts there). The domain's rule then removes the
#: extra hits, as it does SQLite's.
_LEADING_RUN = re.compile(r"[^\W_]+")


def _prefix_term(word: str) -> str | None:
    """`word` as a tsquery prefix term, or None when it has no letter or digit to look up."""
    match = _LEADING_RUN.search(word)
    if match is None:
        return None
    # Only letters and digits reach the query: quotes, &, |, !, : and ( mean nothing.
    return f"'{match.group(0)}':*"


def _query(words: Sequence[str]) -> str | None:
    terms = [t for t in map(_prefix_term, words) if t is not None]
    return " & ".join(terms) if terms else None


def _ids(db: ClinicDB, sql: str, params: list[object], cap: int) -> set[int] | None:
    rows = db.execute(f"{sql} LIMIT ?", [*params, cap + 1]).fetchall()
    return None if len(rows) > cap else {int(row[0]) for row in rows}


def digit_candidates(db: ClinicDB, digits: Sequence[str], cap: int) -> set[int] | None:
    """Rows whose text holds every run of digits (each 3 or more long), or None: too many."""
    where = " AND ".join("search_text LIKE ?" for _ in digits)
    return _ids(db, f"SELECT id FROM patients WHERE {where}", [f"%{d}%" for d in digits], cap)


_WORDS = "to_tsvector('simple', search_text) @@ to_tsquery('simple', ?)"
_LATER = (
    "to_tsvector('simple', substr(search_text, strpos(search_text, ' ') + 1)) "
    "@@ to_tsquery('simple', ?)"
)


def word_candidates(db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None:
    """Rows where each word is a prefix of some word of the text, or None: too many."""
    query = _query(words)
    if query is None:
        return None
    return _ids(db, f"SELECT id FROM patients WHERE {_WORDS}", [query], cap)


def later_word_candidates(db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None:
    """Rows where the first word is a prefix of a word after the text's first, and every
    other word of some word, or None: too many."""
    first, *others = words
    later = _query([first])
    if later is None:
        return None
    other = _query(others)
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
