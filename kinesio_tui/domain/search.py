"""Finding patients as you type: name and surname prefixes, phone digits, birth year.

The exact rule is SQL over `patients.search_text`; two FTS5 indexes (migration 0003) find
the candidates first so a keystroke stays a few milliseconds at 100,000 patients. A module
of its own, without the domain's records and write path, so the patient list (the first
screen) loads only what it needs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.data.engines import sqlite_search


class _Dialect(Protocol):
    """What each engine's search module offers (data/engines/{sqlite,pg}_search.py)."""

    ID_LIST_JOIN: str

    def digit_candidates(
        self, db: ClinicDB, digits: Sequence[str], cap: int
    ) -> set[int] | None: ...
    def word_candidates(self, db: ClinicDB, words: Sequence[str], cap: int) -> set[int] | None: ...
    def later_word_candidates(
        self, db: ClinicDB, words: Sequence[str], cap: int
    ) -> set[int] | None: ...
    def id_list(self, alias: str) -> str: ...
    def id_list_param(self, ids: Sequence[int]) -> object: ...


def dialect(db: ClinicDB) -> _Dialect:
    """The search module of the engine `db` runs on (PostgreSQL's is loaded only there)."""
    if db.kind == "postgresql":
        from kinesio_tui.data.engines import pg_search

        return pg_search
    return sqlite_search


def fold(text: str) -> str:
    """Lower-case, diacritics removed: 'Šimkus' -> 'simkus', 'Žemaitė' -> 'zemaite'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


#: Above this many candidates a query is unselective: walking the (archived_at, search_text)
#: index in order meets a page of matches sooner than fetching and sorting every candidate
#: (each a row lookup). Measured on 126 keystroke queries at 100,000 patients, interleaved:
#: cap 2000 -> p50 9.1 / p95 17.8 ms CPU, 1000 -> 8.5 / 14.6, 500 -> 8.0 / 13.9, 300 -> same.
CANDIDATE_CAP = 500
#: ...or, paging deep, this many times the rows asked for.
PAGE_FACTOR = 2


def count_patients(db: ClinicDB, *, archived: bool = False) -> int:
    """How many patients the active (or archived) list holds."""
    where = "archived_at IS NOT NULL" if archived else "archived_at IS NULL"
    return int(db.execute(f"SELECT count(*) FROM patients WHERE {where}").fetchone()[0])


def _is_digits_word(word: str) -> bool:
    return any(ch.isdigit() for ch in word) and not any(ch.isalpha() for ch in word)


def _word_sql(word: str) -> tuple[str, list[Any]]:
    """The exact rule for one word, as SQL: a prefix of a search_text word, or phone/year
    digits."""
    if _is_digits_word(word):
        # phone digits (anywhere in the number) or birth year
        return "search_text LIKE ?", ["%" + "".join(ch for ch in word if ch.isdigit()) + "%"]
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (
        "(search_text LIKE ? ESCAPE '\\' OR search_text LIKE ? ESCAPE '\\')",
        [f"{escaped}%", f"% {escaped}%"],
    )


def _match_sql(words: list[str], *, implied: str | None = None) -> tuple[list[str], list[Any]]:
    """The exact rule, as SQL: every word a prefix of a search_text word, or phone/year digits.

    `implied`: a word whose rule the caller's own condition already holds (a range of rows
    that start with it): left out, so that PostgreSQL's planner, which takes the two for
    independent, does not think the range nearly empty and sort it all instead of walking
    it in order (traced: 3,993 rows read and sorted for a page of 61, 26 ms).
    """
    where: list[str] = []
    params: list[Any] = []
    for word in words:
        if word == implied:
            continue
        clause, args = _word_sql(word)
        where.append(clause)
        params += args
    return where, params


def _intersect(a: set[int] | None, b: set[int] | None) -> set[int] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _search_plan(db: ClinicDB, words: list[str], cap: int) -> tuple[set[int] | None, str | None]:
    """Candidate ids (a superset of the matches) and, if needed, a surname prefix to walk.

    The engine's indexes (`dialect`) never miss a match; `_match_sql` removes the extra hits.

    (ids, None): the matches are among `ids`. (ids, prefix): they are among `ids` plus the
    rows whose search_text starts with `prefix` (one range of the roster index, already in
    order): a common surname ("Žemaitė" ~2% of rows, all at one end of the order) is cheap
    that way, where walking the index until a page of matches turns up is not.
    (None, None): no index narrows the query; walk the roster index in order.
    """
    engine = dialect(db)
    names = [w for w in words if not _is_digits_word(w) and any(ch.isalnum() for ch in w)]
    digits = ["".join(ch for ch in w if ch.isdigit()) for w in words if _is_digits_word(w)]
    digits = [d for d in digits if len(d) >= 3]  # trigrams: shorter fragments match most rows
    by_digits = engine.digit_candidates(db, digits, cap) if digits else None
    if not names:
        return by_digits, None
    found = _intersect(engine.word_candidates(db, names, cap), by_digits)
    if found is not None:
        return found, None
    # Too many: split the first name word's matches into "search_text starts with it"
    # (a range of the index) and "a later word starts with it" (usually few).
    first = names[0]
    if first[-1] == chr(0x10FFFF):  # no upper bound for the range
        return None, None
    by_later = engine.later_word_candidates(db, names, cap)
    if by_later is None:
        return None, None
    return (by_later if by_digits is None else by_later & by_digits), first


def _prefix_bound(prefix: str) -> str:
    """The least string above every string that starts with `prefix` (code point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def search_rows(
    db: ClinicDB,
    query: str = "",
    *,
    archived: bool = False,
    limit: int = 200,
    offset: int = 0,
    columns: tuple[str, ...] | None = None,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`find_patients` as raw rows of `columns` (all by default): column names and rows.

    For callers that need a few columns of a page (the patient list) and not whole Patients.
    """
    sql, args = search_sql(
        db, query, archived=archived, limit=limit, offset=offset, columns=columns
    )
    cursor = db.execute(sql, args)
    return [c[0] for c in cursor.description], cursor.fetchall()


def search_sql(
    db: ClinicDB,
    query: str = "",
    *,
    archived: bool = False,
    limit: int = 200,
    offset: int = 0,
    columns: tuple[str, ...] | None = None,
) -> tuple[str, list[Any]]:
    """The statement (and its parameters) that reads `search_rows`' page, in order: for a
    caller that reads more about the page in the same statement (the patient list: one round
    trip to a PostgreSQL server per keystroke, not two). Candidate lookups run now."""
    # Bytes that are not text (a terminal in another encoding) cannot match a name: drop them.
    query = query.encode("utf-8", "ignore").decode("utf-8")
    words = fold(query).split()
    match, params = _match_sql(words)
    listed = "archived_at IS NOT NULL" if archived else "archived_at IS NULL"
    where = " AND ".join([listed, *match])
    cols = (
        "patients.*"
        if columns is None
        else ", ".join(f"patients.{c}" for c in dict.fromkeys(("id", "search_text", *columns)))
    )
    ids, prefix = (
        _search_plan(db, words, max(CANDIDATE_CAP, PAGE_FACTOR * (offset + limit)))
        if words
        else (None, None)
    )
    if ids is None:
        # Walking the roster index in order until a page of matches turns up: the rule reads
        # only search_text, which the index holds, so the walk never visits the table (at
        # 100,000 patients 'ru' walks ~6,000 entries: 6 ms on PostgreSQL when each was a row
        # read, traced); only the page's rows are read whole.
        hits = (
            f"SELECT id, search_text FROM patients WHERE {where} "
            "ORDER BY search_text, id LIMIT ? OFFSET ?"
        )
        return (
            f"SELECT {cols} FROM ({hits}) AS hit JOIN patients ON patients.id = hit.id "
            "ORDER BY hit.search_text, hit.id",
            [*params, limit, offset],
        )
    engine = dialect(db)
    sql = (
        f"SELECT {cols} FROM {engine.id_list('c')} {engine.ID_LIST_JOIN} patients "
        f"ON patients.id = c.value WHERE {where}"
    )
    args = [engine.id_list_param(sorted(ids)), *params]
    if prefix is not None:
        # Only the first offset + limit rows of each part can reach the page: the range
        # stops early in index order instead of sorting thousands of "Šimk..." rows.
        wanted = offset + limit
        in_range, in_range_params = _match_sql(words, implied=prefix)
        walked = " AND ".join([listed, *in_range])
        sql = (
            f"SELECT * FROM ({sql} ORDER BY search_text, patients.id LIMIT ?) AS listed "
            f"UNION SELECT * FROM (SELECT {cols} FROM patients WHERE {walked}"
            " AND search_text >= ? AND search_text < ? ORDER BY search_text, id LIMIT ?)"
            " AS walked"
        )
        args += [wanted, *in_range_params, prefix, _prefix_bound(prefix), wanted]
    return (
        f"SELECT * FROM ({sql}) AS page ORDER BY search_text, id LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
