"""The PostgreSQL schema is SQLite's: same tables and columns, nullability, constant
defaults, unique sets, foreign keys and CHECKs, compared with a new SQLite file's own
catalog (PRAGMA table_info and friends), and every CHECK refusing the same values on both.

Raw connections on both sides: sqlite3 on the file `connect` creates, psycopg as the owner
on a schema `upgrade_schema` creates. Where PostgreSQL is stricter on purpose, the
difference is named here (`_PG_ONLY_UNIQUE`, `_PG_NOT_NULL`), so nothing else may differ.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from kinesio_tui.data.db import SCHEMA_STEPS, connect
from kinesio_tui.data.engines import pg_schema
from kinesio_tui.data.engines.pg_schema import BASELINE_STEP, inspect_schema, upgrade_schema

if TYPE_CHECKING:
    from pg_cluster import PgDatabase

SCHEMA = "kinesio"
STEPS_DIR = Path(pg_schema.__file__).parent / "pg" / "steps"
#: SQLite's own bookkeeping and the FTS5 search tables (PostgreSQL has kinesio_schema and
#: GIN indexes instead).
_SQLITE_ONLY = re.compile(r"^(_sqlite_migrations|patients_fts.*|patients_trigram.*)$")
#: Unique on PostgreSQL only: a second entry after the same one would fork the trail (on
#: SQLite the single writer's lock is what prevents it).
_PG_ONLY_UNIQUE = {("audit_log", ("prev_hash",))}
#: NOT NULL on PostgreSQL only: step 0012 added SQLite's uuid column to filled tables (so
#: it had to allow NULL there); every record is given one by insert_row on both engines.
_PG_NOT_NULL = "uuid"


@dataclass
class Both:
    lite: sqlite3.Connection
    pg: psycopg.Connection[Any]

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[str | None, str | None]:
        """`sql` (with ? marks) on both; each engine's refusal class name, None if accepted."""
        outcome: list[str | None] = []
        try:
            self.lite.execute(sql, params)
            outcome.append(None)
        except sqlite3.IntegrityError as error:
            outcome.append(type(error).__name__)
        try:
            self.pg.execute(sql.replace("?", "%s"), params)
            outcome.append(None)
        except psycopg.errors.IntegrityError as error:
            outcome.append(type(error).__name__)
        return outcome[0], outcome[1]


@pytest.fixture
def new_pg(pg_database: PgDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The owner on a schema `upgrade_schema` has just made in an empty database."""
    with psycopg.connect(pg_database.owner_url, autocommit=True) as conn:
        upgrade_schema(conn, SCHEMA, app_role="kinesio_app")
        conn.execute(f"SET search_path = {SCHEMA}")
        yield conn


@pytest.fixture
def pg(pg_clinic: PgDatabase) -> Iterator[psycopg.Connection[Any]]:
    """The owner on the same schema, a clone of conftest's tpl_clinic (which that same call
    made once per test process): making it afresh for each test was most of this module's
    time."""
    with psycopg.connect(pg_clinic.owner_url, autocommit=True) as conn:
        conn.execute(f"SET search_path = {SCHEMA}")
        yield conn


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connect(tmp_path / "clinic.db").close()
    conn = sqlite3.connect(tmp_path / "clinic.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    yield conn
    conn.close()


def _lite_tables(lite: sqlite3.Connection) -> list[str]:
    rows = lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [name for (name,) in rows if not _SQLITE_ONLY.match(name)]


def _pg_tables(pg: psycopg.Connection[Any]) -> list[str]:
    rows = pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
        " AND table_type = 'BASE TABLE' ORDER BY table_name",
        [SCHEMA],
    )
    return [str(name) for (name,) in rows]


def _constant(default: str | None) -> Any:
    """A column default as a value: SQLite's text ('', 1, '[]') and PostgreSQL's
    (''::text, 1, '[]'::text) both; anything else is an expression, kept as text."""
    if default is None or default.upper() == "NULL":
        return None
    text = re.sub(r"::[a-z ]+$", "", default)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return ("expression", default)


def _lite_columns(lite: sqlite3.Connection, table: str) -> list[tuple[str, bool, Any]]:
    rows = lite.execute(f"PRAGMA table_info({table})").fetchall()
    return [
        (name, bool(notnull) or bool(pk) or name == _PG_NOT_NULL, _constant(default))
        for _, name, _, notnull, default, pk in rows
    ]


def _pg_columns(pg: psycopg.Connection[Any], table: str) -> list[tuple[str, bool, Any]]:
    rows = pg.execute(
        "SELECT column_name, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [SCHEMA, table],
    ).fetchall()
    return [(name, nullable == "NO", _constant(default)) for name, nullable, default in rows]


def _lite_uniques(lite: sqlite3.Connection, table: str) -> set[tuple[tuple[str, ...], bool]]:
    """(columns, partial) of every unique index, the primary key included."""
    found = set()
    pk = [row[1] for row in lite.execute(f"PRAGMA table_info({table})") if row[5]]
    if pk:
        found.add((tuple(pk), False))
    for _, name, unique, origin, partial in lite.execute(f"PRAGMA index_list({table})"):
        if unique and origin != "pk":
            columns = tuple(r[2] for r in lite.execute(f"PRAGMA index_info({name})"))
            found.add((columns, bool(partial)))
    return found


def _pg_uniques(pg: psycopg.Connection[Any], table: str) -> set[tuple[tuple[str, ...], bool]]:
    rows = pg.execute(
        "SELECT array_agg(a.attname ORDER BY k.n), i.indpred IS NOT NULL"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace s ON s.oid = t.relnamespace"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
        " WHERE s.nspname = %s AND t.relname = %s AND i.indisunique"
        " GROUP BY i.indexrelid, i.indpred IS NOT NULL",
        [SCHEMA, table],
    ).fetchall()
    return {(tuple(columns), bool(partial)) for columns, partial in rows}


def _lite_links(lite: sqlite3.Connection, table: str) -> set[tuple[str, str, str]]:
    return {(r[3], r[2], r[4] or "id") for r in lite.execute(f"PRAGMA foreign_key_list({table})")}


def _pg_links(pg: psycopg.Connection[Any], table: str) -> set[tuple[str, str, str, bool]]:
    rows = pg.execute(
        "SELECT a.attname, p.relname, pa.attname, c.condeferrable FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace s ON s.oid = t.relnamespace"
        " JOIN pg_class p ON p.oid = c.confrelid"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND s.nspname = %s AND t.relname = %s",
        [SCHEMA, table],
    ).fetchall()
    return {(str(a), str(b), str(c), bool(d)) for a, b, c, d in rows}


def _lite_checked(lite: sqlite3.Connection) -> set[tuple[str, str]]:
    """(table, column) of every CHECK in the SQLite schema (the column each one names)."""
    found = set()
    for table, sql in lite.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
        for column in re.findall(r"CHECK \((\w+)", sql or ""):
            found.add((table, column))
    return found


def _pg_checked(pg: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    rows = pg.execute(
        "SELECT t.relname, a.attname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " JOIN pg_namespace s ON s.oid = t.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
        " WHERE c.contype = 'c' AND s.nspname = %s",
        [SCHEMA],
    ).fetchall()
    return {(str(t), str(c)) for t, c in rows}


@pytest.mark.parametrize("step", [s for s in SCHEMA_STEPS if s > BASELINE_STEP] or ["none"])
def test_every_sqlite_step_after_the_baseline_has_a_postgresql_step(step: str) -> None:
    if step == "none":  # nothing after the baseline yet: the rule still holds for the set
        assert SCHEMA_STEPS[-1] == BASELINE_STEP
        return
    assert (STEPS_DIR / f"{step}.sql").is_file(), f"pg/steps/{step}.sql is missing"


def test_no_postgresql_step_without_its_sqlite_step() -> None:
    """Every step file is an SQLite step's after the baseline, or one of PostgreSQL's own
    (named in PG_ONLY_STEPS, none of them an SQLite step's name), and each of those has its
    file."""
    files = sorted(p.stem for p in STEPS_DIR.glob("*.sql"))
    own = set(pg_schema.PG_ONLY_STEPS)
    assert [
        f for f in files if f not in own and (f not in SCHEMA_STEPS or f <= BASELINE_STEP)
    ] == []
    assert BASELINE_STEP in SCHEMA_STEPS
    assert own <= set(files)
    assert not own & set(SCHEMA_STEPS)


def test_the_sql_files_ship_with_the_package() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["kinesio_tui"]
    assert {"data/engines/pg/*.sql", "data/engines/pg/steps/*.sql"} <= set(shipped)


def test_a_new_schema_records_every_step_and_refuses_nothing_twice(
    new_pg: psycopg.Connection[Any],
) -> None:
    assert inspect_schema(new_pg, SCHEMA) == ("kinesio", sorted(pg_schema.schema_steps()))
    assert upgrade_schema(new_pg, SCHEMA) == []  # current: nothing applied again


def test_same_tables(lite: sqlite3.Connection, pg: psycopg.Connection[Any]) -> None:
    assert _pg_tables(pg) == sorted([*_lite_tables(lite), "kinesio_schema"])


def test_same_columns_nullability_and_constant_defaults(
    lite: sqlite3.Connection, pg: psycopg.Connection[Any]
) -> None:
    for table in _lite_tables(lite):
        assert _pg_columns(pg, table) == _lite_columns(lite, table), table


def test_same_unique_sets(lite: sqlite3.Connection, pg: psycopg.Connection[Any]) -> None:
    for table in _lite_tables(lite):
        extra = {(cols, False) for t, cols in _PG_ONLY_UNIQUE if t == table}
        assert _pg_uniques(pg, table) == _lite_uniques(lite, table) | extra, table


def test_same_links_all_deferrable(lite: sqlite3.Connection, pg: psycopg.Connection[Any]) -> None:
    for table in _lite_tables(lite):
        assert _pg_links(pg, table) == {(*link, True) for link in _lite_links(lite, table)}, table


def test_same_checked_columns(lite: sqlite3.Connection, pg: psycopg.Connection[Any]) -> None:
    assert _pg_checked(pg) == _lite_checked(lite)
    assert set(CANDIDATES) == _lite_checked(lite), "give the new CHECK values to try"


# --- CHECKs refuse the same values ----------------------------------------------------------

_ENUMS = {
    ("patients", "sex"): ["F", "M", "X"],
    ("episodes", "side"): ["L", "R", "both"],
    ("episodes", "course"): ["acute", "chronic"],
    ("episodes", "status"): ["active", "completed", "closed"],
    ("visits", "kind"): ["doctor", "therapy"],
    ("visits", "status"): ["planned", "done", "missed", "cancelled"],
    ("pir_cycles", "side"): ["L", "R", "both"],
    ("measurements", "side"): ["L", "R"],
    ("plan_changes", "list"): ["session", "home"],
    ("plan_changes", "change"): ["add", "remove", "dosage"],
    ("amendments", "kind"): ["reopen", "correct", "remove"],
}
_RANGES = {
    ("visits", "module"): (1, 3),
    ("visits", "number"): (1, 15),
    ("visits", "seq"): (1, 45),
    ("prom_answers", "score"): (0, 5),
    ("plan_changes", "module"): (1, 3),
    ("audit_head", "id"): (1, 1),
}
_NEAR_MISSES = ["", " ", "f", "m", "x", "l", "Both", "BOTH", "both ", " L", "L\n", "Ł", "F\x00"]


def _enum_values(allowed: list[str]) -> list[Any]:
    return [*allowed, *(v.upper() for v in allowed), *(v + " " for v in allowed), *_NEAR_MISSES]


def _range_values(low: int, high: int) -> list[Any]:
    return [low - 1, low, high, high + 1, 0, -1, 2**31, -(2**63), 2**63 - 1]


CANDIDATES: dict[tuple[str, str], list[Any]] = {
    **{key: _enum_values(allowed) for key, allowed in _ENUMS.items()},
    **{key: _range_values(*bounds) for key, bounds in _RANGES.items()},
    ("visits", "planned_time"): [
        None,
        *[
            "08:30",
            "00:00",
            "23:59",
            "24:00",
            "29:59",
            "8:30",
            "08:3",
            "08:60",
            "30:00",
            "08-30",
            "0830",
            "08:30 ",
            " 08:30",
        ],
        *["08:30\n", "08:305", "ab:cd", "١٢:٣٠", "０８:３０", "08:3\x00"],
    ],
}

_ROWS = (
    "INSERT INTO patients (id, first_name, last_name, birth_date, sex, created_at, updated_at,"
    " uuid) VALUES (1, 'A', 'B', '1970-01-01', 'F', 't', 't', '00000000-0000-4000-8000-000000000001')",
    "INSERT INTO episodes (id, patient_id, condition, subtype, side, course, status, opened_on,"
    " created_at, updated_at, uuid) VALUES (1, 1, 'c', 's', 'L', 'acute', 'active', 'd', 't', 't',"
    " '00000000-0000-4000-8000-000000000002')",
    "INSERT INTO visits (id, episode_id, module, number, seq, kind, planned_date, status,"
    " updated_at, uuid) VALUES (1, 1, 1, 1, 1, 'doctor', 'd', 'planned', 't',"
    " '00000000-0000-4000-8000-000000000003')",
    "INSERT INTO pir_cycles (id, visit_id, muscle, side, tension_s, effort_pct, relaxation_s,"
    " cycles, recorded_at, uuid) VALUES (1, 1, 'm', 'L', 5, 20, 10, 3, 't',"
    " '00000000-0000-4000-8000-000000000004')",
    "INSERT INTO measurements (id, visit_id, test_code, recorded_at, uuid) VALUES (1, 1, 'slr',"
    " 't', '00000000-0000-4000-8000-000000000005')",
    "INSERT INTO prom_answers (id, visit_id, questionnaire, item, score, recorded_at, uuid)"
    " VALUES (1, 1, 'odi', 'q1', 2, 't', '00000000-0000-4000-8000-000000000006')",
    "INSERT INTO plan_changes (id, episode_id, visit_id, module, list, change, item_code, made_on,"
    " recorded_at, uuid) VALUES (1, 1, 1, 1, 'home', 'add', 'x', 'd', 't',"
    " '00000000-0000-4000-8000-000000000007')",
    "INSERT INTO amendments (id, visit_id, kind, reason, recorded_at, uuid) VALUES (1, 1,"
    " 'reopen', 'r', 't', '00000000-0000-4000-8000-000000000008')",
)


@pytest.fixture
def both(lite: sqlite3.Connection, pg: psycopg.Connection[Any]) -> Both:
    pair = Both(lite, pg)
    for row in _ROWS:
        assert pair.run(row) == (None, None), row
    return pair


def _refused(outcome: str | None) -> bool:
    return outcome is not None


@pytest.mark.parametrize("key", sorted(CANDIDATES), ids="{0[0]}.{0[1]}".format)
def test_checks_refuse_the_same_values(both: Both, key: tuple[str, str]) -> None:
    table, column = key
    differ = []
    for value in CANDIDATES[key]:
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL refuses NUL in any text before a CHECK runs (the engine turns it
            # into the same ValidationError store raises); SQLite's CHECK must refuse it.
            with pytest.raises(sqlite3.IntegrityError):
                both.lite.execute(f"UPDATE {table} SET {column} = ? WHERE id = 1", (value,))
            continue
        lite, pg = both.run(f"UPDATE {table} SET {column} = ? WHERE id = 1", (value,))
        if _refused(lite) != _refused(pg):
            differ.append((value, lite, pg))
    assert differ == []


def test_check_refusals_are_check_violations_on_postgresql(both: Both) -> None:
    assert both.run("UPDATE patients SET sex = 'Q' WHERE id = 1")[1] == "CheckViolation"
    assert both.run("UPDATE visits SET planned_time = '25:61:00' WHERE id = 1")[1] == (
        "CheckViolation"
    )


def test_one_open_hold_per_episode_on_both(both: Both) -> None:
    hold = (
        "INSERT INTO episode_holds (id, episode_id, raised_on, recorded_at, updated_at, uuid,"
        " cleared_on) VALUES (?, 1, 'd', 't', 't', ?, ?)"
    )
    uuid = "00000000-0000-4000-8000-0000000001{:02d}".format
    assert both.run(hold, (1, uuid(1), None)) == (None, None)
    lite, pg = both.run(hold, (2, uuid(2), None))
    assert _refused(lite) and pg == "UniqueViolation"
    assert both.run(hold, (3, uuid(3), "2026-01-01")) == (None, None)  # a cleared one is fine


def test_a_record_uuid_never_changes_on_both(both: Both) -> None:
    lite, pg = both.run(
        "UPDATE patients SET uuid = '00000000-0000-4000-8000-0000000000ff' WHERE id = 1"
    )
    assert _refused(lite) and _refused(pg)
    assert both.run("UPDATE patients SET first_name = 'C' WHERE id = 1") == (None, None)


def test_links_refuse_a_missing_record_on_both(both: Both) -> None:
    lite, pg = both.run("UPDATE visits SET episode_id = 99 WHERE id = 1")
    assert _refused(lite) and pg == "ForeignKeyViolation"


def test_duplicate_uuid_refused_on_both(both: Both) -> None:
    lite, pg = both.run(
        "INSERT INTO measurements (id, visit_id, test_code, recorded_at, uuid) VALUES (2, 1, 'x',"
        " 't', '00000000-0000-4000-8000-000000000005')"
    )
    assert _refused(lite) and pg == "UniqueViolation"
