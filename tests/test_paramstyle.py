"""SQLite's placeholders become psycopg's, and nothing else in the statement changes."""

from __future__ import annotations

import pytest

from kinesio_tui.data.engines.paramstyle import to_pyformat


@pytest.mark.parametrize(
    ("sqlite", "pyformat"),
    [
        ("SELECT * FROM patients WHERE id = ?", "SELECT * FROM patients WHERE id = %s"),
        ("UPDATE t SET a = ?, b = ? WHERE id = ?", "UPDATE t SET a = %s, b = %s WHERE id = %s"),
        ("SELECT * FROM visits WHERE day = :day", "SELECT * FROM visits WHERE day = %(day)s"),
        ("VALUES (:first_name, :last_name)", "VALUES (%(first_name)s, %(last_name)s)"),
        # a cast is not a named placeholder, also right after a positional one
        ("SELECT ?::bigint[]", "SELECT %s::bigint[]"),
        ("SELECT x::text FROM t WHERE y = :y", "SELECT x::text FROM t WHERE y = %(y)s"),
        # literals and quoted names are copied, with % doubled; ? and :name inside stay
        ("SELECT 'a ? b :c' WHERE x = ?", "SELECT 'a ? b :c' WHERE x = %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ('SELECT "odd?name" FROM t', 'SELECT "odd?name" FROM t'),
        ("SELECT 'half%' LIKE ?", "SELECT 'half%%' LIKE %s"),
        ("WHERE name LIKE ? ESCAPE '\\'", "WHERE name LIKE %s ESCAPE '\\'"),
        # a bare % outside a literal (modulo) is escaped too
        ("SELECT id % 2 FROM t", "SELECT id %% 2 FROM t"),
        ("SELECT 1", "SELECT 1"),
    ],
)
def test_placeholders_become_pyformat(sqlite: str, pyformat: str) -> None:
    assert to_pyformat(sqlite) == pyformat


def test_each_statement_text_is_translated_once() -> None:
    to_pyformat.cache_clear()
    for _ in range(3):
        to_pyformat("SELECT ? FROM translated_once")
    assert to_pyformat.cache_info().hits == 2
    assert to_pyformat.cache_info().misses == 1
