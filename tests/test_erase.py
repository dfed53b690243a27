"""Erasure is complete when it says so, and an erased patient's id is never given again.

"Complete" is checked on the raw bytes of the database file and its -wal: the erased
names must not be found anywhere, whatever another connection was doing at the time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import DAY
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, get_patient, patient_form, update_patient
from kinesio_tui.maintenance.audit import history, verify_chain
from kinesio_tui.maintenance.erase import erase_patient

RUTA_ID = 2
runner = CliRunner()


def _raw_bytes(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _leftovers(path: Path, secrets: tuple[str, ...]) -> list[str]:
    raw = _raw_bytes(path)
    return [s for s in secrets if s.encode() in raw]


RUTA = ("Žemaitė", "zemaite", "+370 655 18230")


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


def test_an_erased_patients_id_is_never_given_again(db: ClinicDB) -> None:
    create_patient(db, NewPatient("Ona", "First", "1970-01-01", "F"), today=DAY)
    erased_id = create_patient(db, NewPatient("Rūta", "Erased", "1970-01-01", "F"), today=DAY)
    erase_patient(db, erased_id)
    db.close()
    again = connect(db.file)  # a new session, as a later day's would be
    try:
        new_id = create_patient(again, NewPatient("Nora", "Newcomer", "1980-01-01", "F"), today=DAY)
        assert new_id > erased_id
        assert [e.action for e in history(again, new_id)] == ["create"]
        assert verify_chain(again).ok
    finally:
        again.close()
