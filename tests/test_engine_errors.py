"""The engine turns its driver's errors into the neutral ones the layers above handle.

Nothing above data/ imports sqlite3 or psycopg for an error: a row the schema refuses is
RecordRefused (which kind: a link, a duplicate, a check), a closed connection DatabaseGone,
and the store turns a refusal into the clinician's sentence, on either engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB, connect, write_transaction
from kinesio_tui.data.engine import Target, parse_target
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.domain.store import insert_row, update_row
from kinesio_tui.errors import DatabaseGone, KinesioError, RecordRefused, ValidationError

pytestmark = pytest.mark.engines("sqlite", "postgresql")

EPISODE = (
    "INSERT INTO episodes (id, patient_id, condition, subtype, side, course, status, "
    "opened_on, created_at, updated_at, uuid) VALUES (?, ?, 'lbp', '', 'L', 'acute', "
    "'active', '2026-11-25', 'x', 'x', ?)"
)


@pytest.fixture
def db(engine: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[ClinicDB]:
    """The clinic on this run's engine (PostgreSQL: made by the owner, used by the app)."""
    if engine == "sqlite":
        clinic = connect(db_path, actor="tester")
    else:
        clinic = connect(request.getfixturevalue("pg_clinic").app_url, actor="tester")
    yield clinic
    clinic.close()


def _patient(db: ClinicDB) -> int:
    return create_patient(db, NewPatient("Anna", "Nowak", "1980-01-02", "F"), today=DAY)


def test_a_link_to_a_missing_record_is_refused_as_a_link(db: ClinicDB) -> None:
    with pytest.raises(RecordRefused) as refused:
        db.execute(EPISODE, [1, 4242, "00000000-0000-4000-8000-000000000001"])
    assert refused.value.kind == "link"


def test_a_duplicate_is_refused_as_a_duplicate(db: ClinicDB) -> None:
    pid = _patient(db)
    db.execute(EPISODE, [1, pid, "00000000-0000-4000-8000-000000000001"])
    with pytest.raises(RecordRefused) as refused:
        db.execute(EPISODE, [1, pid, "00000000-0000-4000-8000-000000000002"])
    assert refused.value.kind == "duplicate"


def test_a_value_outside_a_check_is_refused_as_a_check(db: ClinicDB) -> None:
    pid = _patient(db)
    with pytest.raises(RecordRefused) as refused:
        db.execute("UPDATE patients SET sex = 'Q' WHERE id = ?", [pid])
    assert refused.value.kind == "check"


def test_the_refusal_names_no_value(db: ClinicDB) -> None:
    pid = _patient(db)
    db.execute(EPISODE, [1, pid, "00000000-0000-4000-8000-00000000beef"])
    with pytest.raises(RecordRefused) as refused:
        db.execute(EPISODE, [2, pid, "00000000-0000-4000-8000-00000000beef"])
    assert "beef" not in str(refused.value)


def test_the_store_says_what_was_refused_and_writes_nothing(db: ClinicDB) -> None:
    linked = "a linked record does not exist"
    with pytest.raises(KinesioError, match=linked) as refused, write_transaction(db):
        insert_row(
            db,
            "episodes",
            {
                "patient_id": 4242,
                "condition": "lbp",
                "subtype": "",
                "side": "L",
                "course": "acute",
                "status": "active",
                "opened_on": "2026-11-25",
                "created_at": "x",
                "updated_at": "x",
            },
            patient_id=4242,
        )
    assert not isinstance(refused.value, RecordRefused)  # the clinician's sentence instead
    assert db.execute("SELECT count(*) FROM episodes").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_a_lone_surrogate_is_invalid_input(db: ClinicDB) -> None:
    pid = _patient(db)
    with pytest.raises(ValidationError, match="cannot be stored"), write_transaction(db):
        update_row(db, "patients", pid, {"notes": "bad \udc80 paste"}, patient_id=pid)
    assert db.execute("SELECT notes FROM patients").fetchone()[0] == ""


def test_a_closed_connection_is_database_gone(db: ClinicDB) -> None:
    db.close()
    with pytest.raises(DatabaseGone, match="closed"):
        db.execute("SELECT 1")


def test_a_number_beyond_64_bits_is_invalid_input(db: ClinicDB) -> None:
    pid = _patient(db)
    db.execute(EPISODE, [1, pid, "00000000-0000-4000-8000-000000000001"])
    with pytest.raises(ValidationError, match="too large"), write_transaction(db):
        update_row(db, "episodes", 1, {"patient_id": 2**70}, patient_id=pid)
    assert db.execute("SELECT patient_id FROM episodes").fetchone()[0] == pid


@pytest.mark.engines("postgresql")
def test_nul_which_postgresql_cannot_store_is_invalid_input(db: ClinicDB) -> None:
    pid = _patient(db)
    with pytest.raises(ValidationError, match="cannot be stored"), write_transaction(db):
        update_row(db, "patients", pid, {"notes": "a\x00b"}, patient_id=pid)
    assert db.execute("SELECT notes FROM patients").fetchone()[0] == ""


@pytest.mark.engines("postgresql")
def test_a_lost_server_connection_is_database_gone(
    db: ClinicDB, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("pg_clinic").psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'kinesio-tui' AND datname = current_database()"
    )
    with pytest.raises(DatabaseGone):
        db.execute("SELECT 1")


def test_a_path_names_a_file_and_a_url_a_server() -> None:
    assert parse_target("clinic.db") == Target("sqlite", path=Path("clinic.db"))
    assert parse_target(Path("~/x.db")).path == Path("~/x.db").expanduser()
    # a Path collapses "//"; the URL must stay a str until it is parsed
    pg = parse_target("postgresql://app@db.clinic.lan:5433/clinic", schema="branch_vln")
    assert (pg.kind, pg.path, pg.schema) == ("postgresql", None, "branch_vln")
    assert pg.label() == "db.clinic.lan:5433/clinic (schema branch_vln)"
    assert parse_target("postgres://app@/clinic?host=/run/pg").label() == (
        "localhost/clinic (schema kinesio)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:secret@db.clinic.lan/clinic",
        "postgresql://app@db.clinic.lan/clinic?password=secret",
    ],
)
def test_a_password_in_the_url_is_refused(url: str) -> None:
    with pytest.raises(KinesioError, match="PGPASSFILE") as refused:
        parse_target(url)
    assert "secret" not in str(refused.value)


def test_a_write_on_a_closed_connection_is_database_gone(db: ClinicDB) -> None:
    db.close()
    with pytest.raises(DatabaseGone), write_transaction(db):
        db.execute("SELECT 1")


def test_psycopgs_lost_connection_past_the_engine_is_one_line_not_a_crash_report() -> None:
    """psycopg's own error, when one escapes the engine (a fetch after the server went
    away): the crash handler names it as the user's side (one line, exit 2), not a fault."""
    import psycopg

    from kinesio_tui.crash import known_failure

    known = known_failure(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert known is not None and known.title == "Database connection lost"
    assert known_failure(psycopg.ProgrammingError("syntax error")) is None  # a fault: reported
