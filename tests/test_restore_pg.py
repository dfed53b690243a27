"""`kinesio restore --db postgresql://OWNER@... BACKUP.db`: a server's clinic replaced in place
by a checked backup file, in one transaction as the schema's owner, the trail verified
before and after; every refusal leaves every row as it was. The real `kinesio` process
against the test cluster (and a cluster of the test's own for a server that is down)."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import DAY
from pg_cluster import PgCluster, PgDatabase, database
from real_cli import KINESIO, assert_one_line_refusal, run

from kinesio_tui.data.db import connect
from kinesio_tui.data.engines.postgres import WRITE_LOCK
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import archive_patient, create_patient
from kinesio_tui.errors import DatabaseBusy
from kinesio_tui.maintenance.audit import verify_chain
from kinesio_tui.maintenance.backup import check_backup, restore_to_server
from kinesio_tui.maintenance.transfer import fingerprint


@pytest.fixture
def clinic(
    pg_cluster: PgCluster, _pg_demo_template: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PgDatabase]:
    """The demo clinic on the server (owner and rooms' URLs)."""
    monkeypatch.setenv("PGPASSFILE", str(pg_cluster.passfile))
    with database(pg_cluster, template=_pg_demo_template) as fresh:
        yield fresh


def all_rows(pg: PgDatabase, schema: str = "kinesio") -> list[tuple[Any, ...]]:
    """Every row of every table of the schema, read as the superuser: what a refusal keeps."""
    tables = pg.psql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1",
        params=[schema],
    )
    rows: list[tuple[Any, ...]] = [*tables]
    for (table,) in tables:
        rows += [(table, *r) for r in pg.psql(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1')]
    return rows


def backup_of(pg: PgDatabase, dest: Path) -> Path:
    made = run("backup", str(dest), "--db", pg.app_url)
    assert made.code == 0, made
    return dest


def changed_since(pg: PgDatabase) -> int:
    """Work done after the backup: a patient registered, another archived."""
    with connect(pg.app_url, actor="Room 1") as db:
        new = create_patient(db, NewPatient("Ona", "AfterBackup", "1970-01-01", "F"), today=DAY)
        archive_patient(db, 1)
    return new


def test_a_backup_replaces_the_server_s_clinic_in_place(clinic: PgDatabase, tmp_path: Path) -> None:
    saved = backup_of(clinic, tmp_path / "saved.db")
    with connect(saved, actor="t", migrate=False, create=False) as file:
        expected = fingerprint(file)
        backup_max = file.execute("SELECT max(id) FROM patients").fetchone()[0]
        uuids = file.execute("SELECT id, uuid FROM patients ORDER BY id").fetchall()
    after = changed_since(clinic)
    assert after == backup_max + 1
    with connect(clinic.app_url, actor="t") as server:
        replaced = fingerprint(server)
    restored = run("restore", str(saved), "--yes", "--db", clinic.owner_url)
    assert restored.code == 0, restored
    assert "Restored localhost" in restored.out
    # the rows it replaced are kept, as a portable file in the backups folder
    [kept] = _replaced_files(tmp_path)
    assert f"The data it replaced is kept in {kept}" in restored.out
    assert kept.name.startswith(f"{clinic.name}-kinesio.replaced-")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert check_backup(kept) == []
    with connect(kept, actor="t", migrate=False, create=False) as old:
        assert fingerprint(old) == replaced
    with connect(clinic.app_url, actor="Room 1") as server:
        assert fingerprint(server) == expected  # rows, ids, uuids, head and trail as saved
        assert server.execute("SELECT id, uuid FROM patients ORDER BY id").fetchall() == uuids
        report = verify_chain(server)
        assert report.ok, report.problems[:3]
        # the rooms carry on: the next id follows the backup's, the trail keeps verifying
        again = create_patient(server, NewPatient("Rūta", "Next", "1980-02-02", "F"), today=DAY)
        assert again == backup_max + 1
        assert verify_chain(server).ok
    verified = run("audit", "verify", "--db", clinic.app_url)
    assert verified.code == 0, verified
    # the guards are back on: the trail is append-only again, even to the owner
    with (
        pytest.raises(psycopg.errors.IntegrityConstraintViolation),
        psycopg.connect(clinic.owner_url, autocommit=True) as conn,
    ):
        conn.execute("DELETE FROM kinesio.audit_log WHERE id = 1")


def _replaced_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.replaced-*"))


def _bad_files(tmp_path: Path, good: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}
    text = tmp_path / "notes.db"
    text.write_text("Surname;First name\n" * 100)
    made["not a database"] = text
    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(good.read_bytes())
    raw = sqlite3.connect(tampered)
    raw.execute("DROP TRIGGER audit_log_only_erasure")
    raw.execute("UPDATE audit_log SET actor = 'forger' WHERE id = 1")
    raw.commit()
    raw.close()
    made["trail broken"] = tampered
    rows = tmp_path / "rows.db"
    rows.write_bytes(good.read_bytes())
    raw = sqlite3.connect(rows)
    raw.execute("UPDATE patients SET last_name = 'Changed' WHERE id = 1")
    raw.commit()
    raw.close()
    made["a record changed outside the program"] = rows
    made["missing"] = tmp_path / "missing.db"
    return made


def test_bad_backups_and_the_rooms_role_are_refused_and_every_row_stays(
    clinic: PgDatabase, tmp_path: Path
) -> None:
    good = backup_of(clinic, tmp_path / "good.db")
    changed_since(clinic)
    before = all_rows(clinic)
    for why, bad in _bad_files(tmp_path, good).items():
        ran = run("restore", str(bad), "--yes", "--db", clinic.owner_url)
        assert_one_line_refusal(ran)
        assert "refused" in ran.err, (why, ran)
        assert all_rows(clinic) == before, why
    ran = run("restore", str(good), "--yes", "--db", clinic.app_url)
    assert_one_line_refusal(ran)
    assert "owner" in ran.err
    assert all_rows(clinic) == before
    assert _replaced_files(tmp_path) == []


def test_a_server_that_is_down_is_named_and_nothing_changes(
    pg_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster of the test's own, stopped as an outage would; `pg_cluster` only makes this
    a PostgreSQL test as the suite counts them (see conftest)."""
    own = PgCluster.start(in_memory=True)
    try:
        monkeypatch.setenv("PGPASSFILE", str(own.passfile))
        with database(own) as pg:
            with connect(pg.owner_url, actor="Room 1") as db:
                create_patient(db, NewPatient("Ona", "Server", "1970-01-01", "F"), today=DAY)
            saved = tmp_path / "saved.db"
            assert run("backup", str(saved), "--db", pg.owner_url).code == 0
            with connect(pg.owner_url, actor="Room 1") as db:
                create_patient(db, NewPatient("Jonas", "Later", "1970-01-01", "M"), today=DAY)
            before = all_rows(pg)
            own.pause()
            try:
                ran = run("restore", str(saved), "--yes", "--db", pg.owner_url)
            finally:
                own.resume()
            assert_one_line_refusal(ran)
            assert "Cannot connect to" in ran.err
            assert all_rows(pg) == before
    finally:
        own.stop()


def _hold_the_write_lock(pg: PgDatabase) -> psycopg.Connection[Any]:
    """Another terminal in the middle of a write: the schema's write lock held, open."""
    holder = psycopg.connect(pg.app_url)
    holder.execute("SELECT pg_advisory_xact_lock(%s, hashtext('kinesio'))", [WRITE_LOCK])
    return holder


def test_a_terminal_writing_holds_the_restore_back_until_it_commits(
    clinic: PgDatabase, tmp_path: Path
) -> None:
    """The restore takes the same write lock as every room: it waits (saying so) for a
    write in progress, then replaces the clinic, that write included, as a whole."""
    saved = backup_of(clinic, tmp_path / "saved.db")
    changed_since(clinic)
    before = all_rows(clinic)
    holder = _hold_the_write_lock(clinic)
    try:
        restore = subprocess.Popen(
            [KINESIO, "restore", str(saved), "--yes", "--db", clinic.owner_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # The restore says it waits once it has asked for the lock. (Watching the server's
        # sessions for it missed the wait in a fresh clone: the test then outwaited the
        # restore's own 30 s and the restore gave up.)
        assert restore.stderr is not None
        said = restore.stderr.readline().decode()
        assert "Waiting for the database: another program is writing to it" in said, said
        time.sleep(1.0)
        assert restore.poll() is None, restore.communicate()
        assert all_rows(clinic) == before  # nothing replaced while the other write is open
    finally:
        holder.commit()
        holder.close()
    out, err = restore.communicate(timeout=60)
    assert restore.returncode == 0, (out, said + err.decode())
    with (
        connect(clinic.app_url, actor="t") as server,
        connect(saved, actor="t", migrate=False, create=False) as file,
    ):
        assert fingerprint(server) == fingerprint(file)


def test_a_write_lock_never_released_refuses_the_restore_and_changes_nothing(
    clinic: PgDatabase, tmp_path: Path
) -> None:
    saved = backup_of(clinic, tmp_path / "saved.db")
    before = all_rows(clinic)
    holder = _hold_the_write_lock(clinic)
    try:
        with pytest.raises(DatabaseBusy):
            restore_to_server(clinic.owner_url, saved, actor="restore", write_wait_s=0.5)
        assert all_rows(clinic) == before
        assert _replaced_files(tmp_path) == []
    finally:
        holder.rollback()
        holder.close()


def test_the_command_asks_first_and_no_changes_nothing(clinic: PgDatabase, tmp_path: Path) -> None:
    saved = backup_of(clinic, tmp_path / "saved.db")
    changed_since(clinic)
    before = all_rows(clinic)
    declined = run("restore", str(saved), "--db", clinic.owner_url, stdin="n\n")
    assert declined.code == 1, declined
    assert "Replace every record of localhost/" in declined.out
    assert all_rows(clinic) == before
    assert _replaced_files(tmp_path) == []


def test_a_schema_with_steps_pending_is_refused_and_left_as_it_was(
    clinic: PgDatabase, tmp_path: Path
) -> None:
    """The restore does not upgrade the schema first: an owner's upgrade is `kinesio init`."""
    saved = backup_of(clinic, tmp_path / "saved.db")
    clinic.psql(
        "DELETE FROM kinesio.kinesio_schema WHERE step = (SELECT max(step) FROM kinesio.kinesio_schema)"
    )
    before = all_rows(clinic)
    ran = run("restore", str(saved), "--yes", "--db", clinic.owner_url)
    assert_one_line_refusal(ran)
    assert "steps pending" in ran.err
    assert all_rows(clinic) == before
    assert _replaced_files(tmp_path) == []
