"""`kinesio migrate --to`: the whole clinic copied into an empty database and proved equal.

Real files, the real `kinesio` process for the command line; the copy is compared row by
row here too, not only by the copier's own fingerprint.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pg_cluster import PgDatabase
from real_cli import assert_one_line_refusal, assert_unchanged, files_state, foreign_sqlite, run

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.search import search_rows
from kinesio_tui.domain.store import CLINICAL_TABLES
from kinesio_tui.errors import KinesioError
from kinesio_tui.maintenance import transfer
from kinesio_tui.maintenance.audit import verify_chain
from kinesio_tui.maintenance.transfer import (
    COPIED_TABLES,
    columns_of,
    copy_clinic,
    copy_to_file,
    fingerprint,
)


def _all_rows(db: ClinicDB) -> dict[str, list[tuple[object, ...]]]:
    """Every copied table's rows (and the head) in id order, read independently of the copier."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    for table in (*COPIED_TABLES, "audit_head"):
        key = "table_name" if table == "retired_ids" else "id"
        rows[table] = [tuple(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY {key}")]
    return rows


def test_clinical_tables_are_listed_parents_first(db: ClinicDB) -> None:
    """The copier inserts in CLINICAL_TABLES order: every link must point at a table before."""
    seen: set[str] = set()
    for table in CLINICAL_TABLES:
        parents = {row[2] for row in db.execute(f"PRAGMA foreign_key_list({table})")}
        assert parents <= seen | {table}, (table, parents - seen)
        seen.add(table)
    # and nothing that holds records is left out of the copy
    tables = {
        row[0]
        for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row[0].startswith(("patients_fts", "patients_trigram", "_sqlite", "sqlite_"))
    }
    assert tables == {*COPIED_TABLES, "audit_head"}


def test_the_demo_clinic_copied_to_a_new_file_is_the_same_clinic(
    demo_db: ClinicDB, tmp_path: Path
) -> None:
    dest = tmp_path / "copies" / "offline.db"
    done = copy_to_file(demo_db, dest, actor="tester")
    assert done.target == str(dest)
    assert done.fingerprint == fingerprint(demo_db)
    assert done.fingerprint.counts["patients"] > 10
    assert done.fingerprint.counts["audit_log"] == done.audit_entries > 1000
    assert (dest.stat().st_mode & 0o777) == 0o600
    assert (dest.parent.stat().st_mode & 0o777) == 0o700
    assert sorted(p.name for p in dest.parent.iterdir()) == ["offline.db"]  # no leftovers
    copy = connect(dest, actor="tester")
    try:
        assert _all_rows(copy) == _all_rows(demo_db)
        report = verify_chain(copy)
        assert report.ok, report.problems[:3]
        assert report.entries == done.audit_entries
        # the copy searches like the original (its search index was built as rows went in)
        for query in ("mock", "žemait", "612 40"):
            found = search_rows(copy, query, columns=("id",))[1]
            assert found == search_rows(demo_db, query, columns=("id",))[1] != []
    finally:
        copy.close()


def test_the_fingerprint_changes_with_any_one_value(demo_db: ClinicDB, tmp_path: Path) -> None:
    before = fingerprint(demo_db)
    demo_db.execute("UPDATE patients SET phone = phone || '1' WHERE id = 1")
    changed = fingerprint(demo_db)
    assert changed.counts == before.counts
    assert changed.digest != before.digest


def test_migrate_command_copies_and_says_what_it_verified(
    demo_db_path: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "copy.db"
    ran = run("migrate", "--to", str(dest), "--db", str(demo_db_path))
    assert ran.code == 0, ran
    assert ran.out.startswith(f"Copied {demo_db_path} to {dest}: "), ran
    assert "both audit trails verified" in ran.out
    check = run("check", "--db", str(dest))
    assert check.code == 0, check
    assert "Audit trail: ok" in check.out


@pytest.mark.parametrize("what", ["kinesio", "empty file", "foreign", "folder"])
def test_a_target_that_is_not_new_is_refused_and_left_as_it_was(
    what: str, demo_db_path: Path, tmp_path: Path
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    target = place / "target.db"
    if what == "kinesio":
        connect(target).close()
    elif what == "empty file":
        target.touch(mode=0o600)
    elif what == "foreign":
        foreign_sqlite(target)
    else:
        target.mkdir()
    before = files_state(place)
    ran = run("migrate", "--to", str(target), "--db", str(demo_db_path))
    assert_one_line_refusal(ran)
    assert_unchanged(before, place, ran)


def test_a_source_whose_trail_does_not_verify_is_not_copied(
    demo_db_path: Path, tmp_path: Path
) -> None:
    raw = sqlite3.connect(demo_db_path)
    raw.execute("DROP TRIGGER audit_log_only_erasure")
    raw.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = 5")
    raw.commit()
    raw.close()
    dest = tmp_path / "copies"
    dest.mkdir()
    ran = run("migrate", "--to", str(dest / "copy.db"), "--db", str(demo_db_path))
    assert_one_line_refusal(ran)
    assert "audit trail does not verify" in ran.err
    assert list(dest.iterdir()) == []


def test_copy_to_file_refuses_its_own_source(demo_db: ClinicDB) -> None:
    with pytest.raises(KinesioError, match="already holds a kinesio-tui database"):
        copy_to_file(demo_db, demo_db.file, actor="tester")
    assert verify_chain(demo_db).ok


def test_columns_are_read_in_table_order(db: ClinicDB) -> None:
    assert columns_of(db, "audit_head")[:4] == ["id", "entries", "last_id", "last_hash"]


def test_tables_read_a_page_at_a_time_add_up_to_the_whole_table(
    demo_db: ClinicDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = fingerprint(demo_db)
    monkeypatch.setattr(transfer, "BATCH", 7)  # pages of 7 rows: every table spans many
    assert fingerprint(demo_db) == whole


# --- PostgreSQL -------------------------------------------------------------------------------


def test_a_clinic_moved_to_postgresql_and_back_is_the_same_clinic(
    demo_db: ClinicDB, pg_database: PgDatabase, tmp_path: Path
) -> None:
    """SQLite -> PostgreSQL (its owner makes the schema) -> a new file: every row, the head
    and both trails as they were; the middle copy searches like the file."""
    moved = copy_clinic(demo_db, pg_database.owner_url, actor="tester")
    original = fingerprint(demo_db)
    assert moved.fingerprint == original
    on_pg = connect(pg_database.owner_url, actor="tester")
    try:
        assert on_pg.kind == "postgresql"
        assert fingerprint(on_pg) == original
        assert _all_rows(on_pg) == _all_rows(demo_db)
        report = verify_chain(on_pg)
        assert report.ok, report.problems[:3]
        for query in ("mock", "žemait", "612 40"):
            assert (
                search_rows(on_pg, query, columns=("id",))[1]
                == search_rows(demo_db, query, columns=("id",))[1]
            )
        back = copy_clinic(on_pg, tmp_path / "back.db", actor="tester")
    finally:
        on_pg.close()
    assert back.fingerprint == original
    returned = connect(tmp_path / "back.db", actor="tester")
    try:
        assert _all_rows(returned) == _all_rows(demo_db)
        assert verify_chain(returned).ok
    finally:
        returned.close()


def test_migrate_command_to_postgresql(demo_db_path: Path, pg_database: PgDatabase) -> None:
    ran = run("migrate", "--to", pg_database.owner_url, "--db", str(demo_db_path))
    assert ran.code == 0, ran
    assert "both audit trails verified" in ran.out
    assert pg_database.psql("SELECT count(*) FROM kinesio.patients") == [(41,)]


def _pg_state(pg: PgDatabase) -> list[tuple[object, ...]]:
    """What a refused copy must not change: every table's rows and the schemas there are."""
    schemas = pg.psql(
        "SELECT nspname, nspowner::regrole::text FROM pg_namespace"
        " WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1"
    )
    tables = pg.psql(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    )
    rows: list[tuple[object, ...]] = []
    for schema, table in tables:
        rows += [(schema, table, *r) for r in pg.psql(f'SELECT * FROM "{schema}"."{table}"')]
    return [*schemas, *tables, *rows]


@pytest.mark.parametrize("what", ["a clinic with records", "another program's tables"])
def test_a_postgresql_target_that_is_not_empty_is_refused_and_left_as_it_was(
    what: str, demo_db_path: Path, pg_database: PgDatabase
) -> None:
    if what == "a clinic with records":
        first = run("migrate", "--to", pg_database.owner_url, "--db", str(demo_db_path))
        assert first.code == 0, first
    else:
        pg_database.psql("CREATE SCHEMA kinesio", user="kinesio_owner")
        pg_database.psql("CREATE TABLE kinesio.invoices (id bigint)", user="kinesio_owner")
        pg_database.psql("INSERT INTO kinesio.invoices VALUES (7)", user="kinesio_owner")
    before = _pg_state(pg_database)
    ran = run("migrate", "--to", pg_database.owner_url, "--db", str(demo_db_path))
    assert_one_line_refusal(ran)
    assert _pg_state(pg_database) == before
