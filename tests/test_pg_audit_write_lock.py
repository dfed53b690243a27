"""Plan risk 4: the audit chain stays one chain only if every append happens under the
clinic's write lock (the advisory transaction lock `write_transaction` takes: the entry's
prev_hash is read and the entry written while no other room can append). The server refuses
an INSERT into audit_log from a transaction that does not hold it, whoever sends it; tested
here as the rooms' role over a raw connection, not through kinesio-tui."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from conftest import DAY
from pg_cluster import PgDatabase
from real_cli import run

from kinesio_tui.data.db import connect
from kinesio_tui.data.engines import pg_schema
from kinesio_tui.data.engines.postgres import WRITE_LOCK
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.errors import SchemaPending
from kinesio_tui.maintenance.audit import verify_chain

#: The next entry of the trail as a forger would write it: chained to the last one, and
#: otherwise a copy of it (so that nothing but the lock can refuse it).
NEXT_ENTRY = """
INSERT INTO kinesio.audit_log (id, at, actor, action, table_name, record_id, patient_id,
    old, new, content_sha, prev_hash, hash, key_id)
SELECT id + 1, at, 'forger', action, table_name, record_id, patient_id, old, new,
    content_sha, hash, md5(hash) || md5(hash), key_id
FROM kinesio.audit_log ORDER BY id DESC LIMIT 1
"""
TAKE_THE_LOCK = "SELECT pg_advisory_xact_lock(%s, hashtext('kinesio'))"
STEP = "pg0001_audit_write_lock"


@pytest.fixture
def clinic(pg_clinic: PgDatabase) -> PgDatabase:
    """An empty clinic with one patient registered through kinesio-tui (one entry)."""
    with connect(pg_clinic.app_url, actor="Room 1") as db:
        create_patient(db, NewPatient("Ona", "Locked", "1970-01-01", "F"), today=DAY)
    return pg_clinic


def _entries(pg: PgDatabase) -> list[tuple[Any, ...]]:
    return pg.psql("SELECT id, actor, hash FROM kinesio.audit_log ORDER BY id")


def test_an_append_without_the_write_lock_is_refused_by_the_server(clinic: PgDatabase) -> None:
    before = _entries(clinic)
    with psycopg.connect(clinic.app_url) as conn:  # a transaction, as the rooms' role
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation) as refused:
            conn.execute(NEXT_ENTRY)
        assert "write lock" in str(refused.value)
        conn.rollback()
    with (
        psycopg.connect(clinic.app_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation),
    ):
        conn.execute(NEXT_ENTRY)
    assert _entries(clinic) == before


def test_the_same_append_under_the_write_lock_goes_in(clinic: PgDatabase) -> None:
    """What refused it above was the lock, nothing else (rolled back: no forged entry kept)."""
    with psycopg.connect(clinic.app_url) as conn:
        conn.execute(TAKE_THE_LOCK, [WRITE_LOCK])
        conn.execute(NEXT_ENTRY)
        assert conn.execute("SELECT count(*) FROM kinesio.audit_log").fetchone() == (2,)
        conn.rollback()
    assert len(_entries(clinic)) == 1


def test_another_schema_s_lock_or_another_number_does_not_count(clinic: PgDatabase) -> None:
    for key in (
        "SELECT pg_advisory_xact_lock(%s, hashtext('branch_x'))",
        "SELECT pg_advisory_xact_lock(%s)",
    ):
        with psycopg.connect(clinic.app_url) as conn:
            conn.execute(key, [WRITE_LOCK])
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
                conn.execute(NEXT_ENTRY)
            conn.rollback()
    assert len(_entries(clinic)) == 1


def test_the_owner_is_refused_too(clinic: PgDatabase) -> None:
    with (
        psycopg.connect(clinic.owner_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation),
    ):
        conn.execute(NEXT_ENTRY)
    assert len(_entries(clinic)) == 1


def test_kinesio_tui_s_own_writes_hold_the_lock_and_the_trail_verifies(clinic: PgDatabase) -> None:
    with connect(clinic.app_url, actor="Room 2") as db:
        create_patient(db, NewPatient("Jonas", "Locked", "1970-02-02", "M"), today=DAY)
        report = verify_chain(db)
        assert report.ok and report.entries == 2, report.problems[:3]


def test_a_schema_made_before_the_guard_gets_it_from_its_owner(clinic: PgDatabase) -> None:
    """A schema from before the step: the rooms' role is asked to fetch the owner (as for
    any step pending); the owner's next connection applies pg/steps/<step>.sql."""
    clinic.psql(
        "DROP TRIGGER audit_log_write_lock ON kinesio.audit_log;"
        " DROP FUNCTION kinesio.kinesio_audit_needs_write_lock();"
        f" DELETE FROM kinesio.kinesio_schema WHERE step = '{STEP}'"
    )
    with psycopg.connect(clinic.app_url, autocommit=True) as conn:
        conn.execute(TAKE_THE_LOCK, [WRITE_LOCK])  # autocommit: released at once
        conn.execute("BEGIN")
        conn.execute(NEXT_ENTRY)  # the gap the step closes: nothing refuses it
        conn.execute("ROLLBACK")
    with pytest.raises(SchemaPending):
        connect(clinic.app_url, actor="Room 1")
    connect(clinic.owner_url, actor="owner").close()
    steps = [step for (step,) in clinic.psql("SELECT step FROM kinesio.kinesio_schema")]
    assert sorted(steps) == sorted(pg_schema.schema_steps())
    with (
        psycopg.connect(clinic.app_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation),
    ):
        conn.execute(NEXT_ENTRY)


def test_check_names_the_guard_when_it_is_gone(clinic: PgDatabase) -> None:
    clinic.psql("ALTER TABLE kinesio.audit_log DISABLE TRIGGER audit_log_write_lock")
    ran = run("check", "--db", clinic.app_url)
    assert ran.code == 1, ran
    assert "audit_log_write_lock was disabled" in ran.out + ran.err


def test_the_step_is_postgresql_s_own() -> None:
    assert STEP in pg_schema.PG_ONLY_STEPS
