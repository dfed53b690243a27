"""The database file: migrations, refusal of files we must not touch, pragmas, permissions."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlite_utils import Database

from kinesio_tui.data.db import (
    APPLICATION_ID,
    ClinicDB,
    connect,
    known_migrations,
    schema_version,
    write_transaction,
)
from kinesio_tui.errors import DatabaseTooNew, KinesioError, RecordRefused

if TYPE_CHECKING:
    from pg_cluster import PgDatabase

pytestmark = pytest.mark.engines("sqlite", "postgresql")

TABLES = {
    "patients",
    "episodes",
    "visits",
    "checklist_ticks",
    "pir_cycles",
    "measurements",
    "red_flag_screens",
    "audit_log",
}


@pytest.fixture
def clinic(db_target: str) -> Iterator[ClinicDB]:
    """A new clinic on the engine: a file, or a schema its owner made for the app's role."""
    with connect(db_target, actor="tester") as db:
        yield db


def _applied(path: Path) -> list[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'kinesio' ORDER BY id"
        ).fetchall()
    raw.close()
    return [r[0] for r in rows]


def test_migrations_from_an_empty_file(db_path: Path) -> None:
    db = connect(db_path)
    try:
        assert set(db.table_names()) >= TABLES
        assert schema_version(db) == len(known_migrations()) >= 2
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        db.close()
    assert _applied(db_path) == known_migrations()
    assert known_migrations()[:2] == ["0001_initial", "0002_audit_log"]  # later steps append
    numbers = [int(name[:4]) for name in known_migrations()]
    # applied in their numbered order; a number held for a step still being written may be
    # missing for a while (a later step lands first), never repeated or out of order
    assert numbers == sorted(set(numbers)) and numbers[0] == 1


def test_a_zero_byte_file_is_migrated(db_path: Path) -> None:
    db_path.touch()
    connect(db_path).close()
    assert _applied(db_path) == known_migrations()


def test_rerunning_migrations_is_a_no_op(db_path: Path) -> None:
    from kinesio_tui.data.db import migrate_schema

    connect(db_path).close()
    db = connect(db_path)
    try:
        assert migrate_schema(db) == []
        schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        assert migrate_schema(db) == []
        assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    finally:
        db.close()
    assert _applied(db_path) == known_migrations()  # recorded once each


def _make_newer(path: Path, how: str) -> None:
    connect(path).close()
    raw = sqlite3.connect(path)
    if how == "user_version":
        raw.execute(f"PRAGMA user_version = {len(known_migrations()) + 1}")
    else:
        raw.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('kinesio', '0099_from_the_future', '2030-01-01')"
        )
    raw.commit()
    raw.close()


@pytest.mark.parametrize("how", ["user_version", "unknown_migration"])
def test_a_file_from_a_newer_version_is_refused_untouched(db_path: Path, how: str) -> None:
    _make_newer(db_path, how)
    before = db_path.read_bytes()
    with pytest.raises(DatabaseTooNew) as caught:
        connect(db_path)
    assert "newer" in caught.value.message
    assert "not changed" in caught.value.message
    assert db_path.read_bytes() == before


def test_a_newer_file_in_rollback_journal_mode_is_not_switched_to_wal(db_path: Path) -> None:
    _make_newer(db_path, "user_version")
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA journal_mode = DELETE")
    raw.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseTooNew):
        connect(db_path)
    assert db_path.read_bytes() == before


def test_another_programs_sqlite_file_is_refused(db_path: Path) -> None:
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    raw.commit()
    raw.close()
    before = db_path.read_bytes()
    with pytest.raises(KinesioError, match="another program"):
        connect(db_path)
    assert db_path.read_bytes() == before


def test_a_foreign_application_id_is_refused(db_path: Path) -> None:
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA application_id = 12345")
    raw.commit()
    raw.close()
    with pytest.raises(KinesioError, match="another program"):
        connect(db_path)


def test_a_file_that_is_not_sqlite_gives_a_clear_error(db_path: Path) -> None:
    db_path.write_bytes(b"Surname;First name\nPetrauskas;Tomas\n" * 200)
    before = db_path.read_bytes()
    with pytest.raises(KinesioError) as caught:
        connect(db_path)
    assert caught.value.title == "Not a kinesio-tui database"
    assert caught.value.message.endswith("is not an SQLite database.")
    assert db_path.read_bytes() == before


def test_pragmas_in_force(db_path: Path) -> None:
    db = connect(db_path)
    try:
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    finally:
        db.close()


def test_foreign_keys_are_enforced(clinic: ClinicDB) -> None:
    with pytest.raises(RecordRefused) as refused:
        clinic.execute(
            "INSERT INTO episodes (id, patient_id, condition, subtype, side, course, status, "
            "opened_on, created_at, updated_at, uuid) "
            "VALUES (1, 999, 'sciatica', 'upper', 'L', 'acute', 'active', '2026-01-01', 'x', "
            "'x', '00000000-0000-4000-8000-000000000001')"
        )
    assert refused.value.kind == "link"


def test_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "clinic.db"
    db = connect(path)
    db.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_write_transaction_rolls_back_whole(clinic: ClinicDB) -> None:
    with pytest.raises(RuntimeError), write_transaction(clinic):
        clinic.execute(
            "INSERT INTO audit_log (id, at, actor, action, table_name, record_id, content_sha, "
            "prev_hash, hash) VALUES (1, 'x', 'x', 'x', 'x', 1, 'x', 'x', 'h1')"
        )
        assert clinic.execute("SELECT entries FROM audit_head").fetchone()[0] == 1
        raise RuntimeError("power cut")
    assert clinic.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
    assert clinic.execute("SELECT entries FROM audit_head").fetchone()[0] == 0


def test_the_owner_makes_the_schema_once_at_every_step(pg_database: PgDatabase) -> None:
    import psycopg

    from kinesio_tui.data.engines.pg_schema import inspect_schema, schema_steps

    # SQLite's steps, and PostgreSQL's own (pg_schema.PG_ONLY_STEPS)
    assert set(known_migrations()) < set(schema_steps())
    with connect(pg_database.owner_url) as db:
        assert db.kind == "postgresql"
        assert set(db.table_names()) >= TABLES | {"audit_head", "retired_ids", "kinesio_schema"}
        assert schema_version(db) == len(schema_steps())
    with psycopg.connect(pg_database.owner_url, autocommit=True) as raw:
        assert inspect_schema(raw, "kinesio") == ("kinesio", sorted(schema_steps()))
        catalog = raw.execute(
            "SELECT count(*), max(xmin::text) FROM pg_class WHERE relnamespace = "
            "'kinesio'::regnamespace"
        ).fetchone()
    connect(pg_database.owner_url).close()  # again: nothing to do, nothing changed
    with psycopg.connect(pg_database.owner_url, autocommit=True) as raw:
        assert (
            raw.execute(
                "SELECT count(*), max(xmin::text) FROM pg_class WHERE relnamespace = "
                "'kinesio'::regnamespace"
            ).fetchone()
            == catalog
        )


def test_a_first_migration_interrupted_half_way_can_be_resumed(db_path: Path) -> None:
    """A power cut between two migration steps must not make the file 'another program's'."""
    from kinesio_tui.data.migrations import migrations

    second = migrations.pending(Database(memory=True, execute_plugins=False))[1]

    def crash(_db: object) -> None:
        raise OSError("power cut")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(second, "fn", crash)
        with pytest.raises(OSError):
            connect(db_path)
    db = connect(db_path)
    db.close()
    assert _applied(db_path) == known_migrations()


def test_a_reader_connection_keeps_a_small_page_cache(db_path: Path) -> None:
    """The list's search connection must not grow with the clinic (issue 7: memory)."""
    from kinesio_tui.data.db import READER_CACHE_KIB, connect_reader

    connect(db_path).close()
    reader = connect_reader(db_path)
    try:
        assert reader.execute("PRAGMA cache_size").fetchone()[0] == -READER_CACHE_KIB
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        reader.close()


def test_the_workstation_connection_keeps_a_small_page_cache(db_path: Path) -> None:
    from kinesio_tui.app import build_app
    from kinesio_tui.data.db import WORKSTATION_CACHE_KIB

    app = build_app(db_path)
    try:
        assert app.db.execute("PRAGMA cache_size").fetchone()[0] == -WORKSTATION_CACHE_KIB
    finally:
        app.db.close()


def test_a_path_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    """Not a crash report: the message names the file and why (found in the stop review)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(KinesioError, match="cannot be created"):
        connect(blocker / "clinic.db")  # its folder would have to be inside a file
