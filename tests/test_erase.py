"""Erasure is complete when it says so, and an erased patient's id is never given again.

"Complete" is checked on the raw bytes of the database file and its -wal: the erased
names must not be found anywhere, whatever another connection was doing at the time.
On PostgreSQL (the tests not about the file run on both engines) the rows and the trail's
content go the same way, as the application's role, and the erasure always says what the
server keeps until vacuum and its archives and replicas let go.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import DAY, held_episode
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.models import NewEpisode, NewPatient, PirCycle, Visit
from kinesio_tui.domain.patients import create_patient, get_patient, patient_form, update_patient
from kinesio_tui.domain.store import CLINICAL_TABLES
from kinesio_tui.domain.visits import record_measurement, record_pir_cycle
from kinesio_tui.maintenance.audit import history, verify_chain
from kinesio_tui.maintenance.erase import erase_patient

pytestmark = pytest.mark.engines("sqlite", "postgresql")

RUTA_ID = 2
runner = CliRunner()


def _raw_bytes(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _leftovers(path: Path, secrets: tuple[str, ...]) -> list[str]:
    raw = _raw_bytes(path)
    return [s for s in secrets if s.encode() in raw]


RUTA = ("Žemaitė", "zemaite", "+370 655 18230")


@pytest.mark.sqlite_only  # the file's own bytes
def test_erase_while_another_connection_reads_is_complete_or_says_what_is_pending(
    demo_db_path: Path,
) -> None:
    assert _leftovers(demo_db_path, RUTA) == list(RUTA)
    reader = sqlite3.connect(demo_db_path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM patients").fetchone()  # holds its snapshot
    try:
        erased = runner.invoke(app, ["erase", str(RUTA_ID), "--yes", "--db", str(demo_db_path)])
        assert erased.exit_code == 0, erased.output
        if "pending" not in erased.output:  # claims complete: then it must be
            assert _leftovers(demo_db_path, RUTA) == []
        else:
            assert "another program" in erased.output
    finally:
        reader.close()
    # run again once the reader is gone: the erasure completes and says so
    finished = runner.invoke(app, ["erase", str(RUTA_ID), "--yes", "--db", str(demo_db_path)])
    assert finished.exit_code == 0, finished.output
    assert "complete" in finished.output and "pending" not in finished.output
    assert _leftovers(demo_db_path, RUTA) == []
    assert b"Petrauskas" in _raw_bytes(demo_db_path)
    with connect(demo_db_path) as db:
        assert verify_chain(db).ok


@pytest.mark.sqlite_only  # the file's own bytes
def test_erase_leaves_no_trace_of_values_changed_long_before(db: ClinicDB) -> None:
    pid = create_patient(
        db, NewPatient("Ona", "Qwertyold", "1970-01-01", "F", phone="+370 611 00000"), today=DAY
    )
    create_patient(db, NewPatient("Jonas", "Stays", "1970-01-01", "M"), today=DAY)
    form = patient_form(get_patient(db, pid))
    update_patient(
        db,
        pid,
        type(form)(**{**form.__dict__, "last_name": "Qwertynew"}),
        expected_version=1,
        today=DAY,
    )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert _leftovers(db.file, ("Qwertyold", "qwertyold", "Qwertynew"))
    result = erase_patient(db, pid)
    assert result.complete, result.pending
    assert _leftovers(db.file, ("Qwertyold", "qwertyold", "Qwertynew", "qwertynew")) == []
    assert b"Stays" in _raw_bytes(db.file)


def test_an_erased_patients_id_is_never_given_again(db_target: str) -> None:
    with connect(db_target, actor="tester") as db:
        create_patient(db, NewPatient("Ona", "First", "1970-01-01", "F"), today=DAY)
        erased_id = create_patient(db, NewPatient("Rūta", "Erased", "1970-01-01", "F"), today=DAY)
        erase_patient(db, erased_id)
    again = connect(db_target)  # a new session, as a later day's would be
    try:
        new_id = create_patient(again, NewPatient("Nora", "Newcomer", "1980-01-01", "F"), today=DAY)
        assert new_id > erased_id
        assert [e.action for e in history(again, new_id)] == ["create"]
        assert verify_chain(again).ok
    finally:
        again.close()


def test_an_erasure_removes_every_record_of_the_patient_and_keeps_the_others(
    db_target: str, engine: str
) -> None:
    with connect(db_target, actor="tester") as db:

        def at(visit: Visit) -> None:
            record_measurement(db, visit.id, "vas", 6)
            record_pir_cycle(db, visit.id, PirCycle("piriformis", "L", 7, 30, 20, 3))

        pid, _, _ = held_episode(db, NewEpisode("sciatica", "lower", "L"), held=2, at=at)
        kept, _, _ = held_episode(
            db,
            NewEpisode("sciatica", "lower", "R"),
            patient=NewPatient("Jonas", "Stays", "1970-01-01", "M"),
            held=1,
            at=at,
        )
        before = {t: _count(db, t) for t in CLINICAL_TABLES}
        erasure = erase_patient(db, pid)
        assert erasure.counts["patients"] == 1
        assert erasure.counts["measurements"] == 2 and erasure.counts["pir_cycles"] == 2
        for table in CLINICAL_TABLES:
            assert _count(db, table) == before[table] - erasure.counts.get(table, 0), table
        assert all(e.erased for e in history(db, pid)[:-1])
        assert history(db, pid)[-1].action == "erase"
        assert not any(e.erased for e in history(db, kept))
        assert verify_chain(db).ok, verify_chain(db).problems
        if engine == "postgresql":
            assert erasure.pending is not None and "autovacuum" in erasure.pending
            assert "standbys" in erasure.pending and "head office" in erasure.pending
        else:
            assert erasure.complete, erasure.pending


def test_the_erase_command_names_what_is_left_on_each_engine(db_target: str, engine: str) -> None:
    with connect(db_target, actor="tester") as db:
        pid = create_patient(db, NewPatient("Rūta", "Erased", "1970-01-01", "F"), today=DAY)
    erased = runner.invoke(app, ["erase", str(pid), "--yes", "--db", db_target])
    assert erased.exit_code == 0, erased.output
    assert f"Patient {pid} erased: 1 records removed." in erased.output
    again = runner.invoke(app, ["erase", str(pid), "--yes", "--db", db_target])
    assert again.exit_code == 0, again.output
    if engine == "postgresql":
        assert "Erasure pending" in again.output and "autovacuum" in again.output
    else:
        assert "complete" in again.output and "pending" not in again.output
    checked = runner.invoke(app, ["check", "--db", db_target])
    assert checked.exit_code == 0, checked.output
    assert "1 erased on request" in checked.output


def _count(db: ClinicDB, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
