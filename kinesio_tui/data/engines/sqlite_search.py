"""Search candidates on SQLite: the two FTS5 indexes of schema step 0003.

`patients_fts` holds every word of `patients.search_text` (a column `rest` holds the words
after the first), tokenised by unicode61 with prefix indexes; `patients_trigram` holds the
same text as trigrams, for phone digits anywhere in the number. The domain's search
(`domain/search.py`) decides what matches; this only narrows where to look.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from kinesio_tui.data.db import ClinicDB


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _ids(db: ClinicDB, table: str, query: str, cap: int) -> set[int] | None:
    """Rowids matching an FTS5 query, or None when there are more than `cap` of them."""
    try:
        rows = db.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?", [query, cap + 1]
        ).fetchall()
    except sqlite3.OperationalError:  # no index (a file mid-migration): scan instead
        return None
    return None if len(rows) > cap else {row[0] for row in rows}


def digit_candidates(db: ClinicDB, digits: Sequence[str], cap: int) -> set[int] | None:
    """Rows whose text holds every run of digits (each 3 or more long), or None: too many."""
    return _ids(db, "patients_trigram", " AND ".join(map(_phrase, digits)), cap)


def word_candidates(db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None:
    """Rows where each word is a prefix of some word of the text, or None: too many.

    A quoted word is tokenised by FTS5 exactly as the stored text was, so a word that is a
    prefix of a stored word is a phrase whose last token is a prefix: the index never
    misses a match, and the domain's rule removes the few extra hits (tokens split at ' or -).
    """
    return _ids(db, "patients_fts", " AND ".join(f"{_phrase(w)} *" for w in words), cap)


def later_word_candidates(db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None:
    """Rows where the first word is a prefix of a word after the text's first, and every
    other word of some word, or None: too many."""
    first, *others = words
    query = " AND ".join([f"rest : {_phrase(first)} *", *(f"{_phrase(w)} *" for w in others)])
    return _ids(db, "patients_fts", query, cap)


def id_list(alias: str) -> str:
    """A list of ids as a table `alias` with one column `value`, from one parameter
    (`id_list_param`)."""
    return f"json_each(?) AS {alias}"


def id_list_param(ids: Sequence[int]) -> str:
    return json.dumps(list(ids))


#: How the id list joins the patients: CROSS JOIN keeps SQLite from walking the whole index
#: and probing the candidates.
ID_LIST_JOIN = "CROSS JOIN"
