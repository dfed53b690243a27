"""Two processes on one clinic: writes wait, stale edits are refused, screens learn of
changes. On SQLite (one file) and on PostgreSQL (one database, two connections as the
application's role)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DAY, where

from kinesio_tui.data.db import ClinicDB, connect, connect_reader
from kinesio_tui.data.watch import ChangeWatcher
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, get_patient, patient_form, update_patient
from kinesio_tui.errors import StaleRecord

pytestmark = pytest.mark.engines("sqlite", "postgresql")

CHILD = Path(__file__).with_name("writer_child.py")


def _child(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHILD), *args], capture_output=True, text=True, timeout=60
    )


def _renamed(db: ClinicDB, patient_id: int, last_name: str) -> NewPatient:
    form = patient_form(get_patient(db, patient_id))
    return NewPatient(**{**form.__dict__, "last_name": last_name})


def test_a_write_waits_for_the_other_process_instead_of_failing(db: ClinicDB) -> None:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "hold-lock", where(db), "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        locked = child.stdout.readline().split()
        assert locked[0] == "locked", child.stderr.read() if child.stderr else ""
        # The child holds the write lock now; this must wait (busy timeout), not fail.
        ours = create_patient(db, NewPatient("Ona", "Waiter", "1980-01-01", "F"), today=DAY)
        committed = child.stdout.readline().split()
    finally:
        child.wait(timeout=60)
    assert child.returncode == 0
    assert committed == ["committed", locked[1]]
    theirs = int(locked[1])
    assert ours > theirs  # ours was written after theirs committed, nothing interleaved
    assert {get_patient(db, theirs).first_name, get_patient(db, ours).first_name} == {
        "Child1",
        "Ona",
    }


def test_an_edit_from_a_stale_screen_in_this_process_is_refused(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Before", "1980-01-01", "F"), today=DAY)
    on_screen = get_patient(db, pid)  # what our screen shows (version 1)
    done = _child("update-patient", where(db), str(pid), str(on_screen.version), "Theirs")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "updated"
    with pytest.raises(StaleRecord) as refused:
        update_patient(
            db, pid, _renamed(db, pid, "Ours"), expected_version=on_screen.version, today=DAY
        )
    assert "changed in another terminal" in refused.value.message
    now = get_patient(db, pid)
    assert now.last_name == "Theirs"  # the other process's edit is not overwritten
    assert now.version == on_screen.version + 1
    changes = db.execute(
        "SELECT count(*) FROM audit_log WHERE table_name = 'patients' AND action = 'change'"
    ).fetchone()[0]
    assert changes == 1  # the refused edit left no trace but the refusal


def test_an_edit_from_a_stale_screen_in_the_other_process_is_refused(db: ClinicDB) -> None:
    pid = create_patient(db, NewPatient("Ona", "Before", "1980-01-01", "F"), today=DAY)
    their_version = get_patient(db, pid).version
    update_patient(db, pid, _renamed(db, pid, "Ours"), expected_version=their_version, today=DAY)
    done = _child("update-patient", where(db), str(pid), str(their_version), "Theirs")
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == "stale"
    assert get_patient(db, pid).last_name == "Ours"


def test_an_open_screen_notices_the_other_process_commit(db_target: str) -> None:
    screen = connect(db_target)
    try:
        watcher = ChangeWatcher(screen)
        assert watcher.changed() is False
        create_patient(screen, NewPatient("Own", "Write", "1980-01-01", "F"), today=DAY)
        assert watcher.changed() is False  # our own commits need no refresh
        done = _child("add-patient", db_target)
        assert done.returncode == 0, done.stderr
        assert watcher.changed() is True
        assert watcher.changed() is False  # once per batch of foreign commits
        assert get_patient(screen, int(done.stdout)).first_name == "Child2"
    finally:
        screen.close()


@pytest.mark.sqlite_only  # POSIX locks of one file
def test_a_second_connection_in_this_process_keeps_the_first_ones_lock(db: ClinicDB) -> None:
    """The workstation opens more connections to its file (search reader, export) while its
    main one is open. Reading the file's header for them must not drop the main connection's
    lock: POSIX locks belong to the process, and closing any descriptor of the file releases
    them all. Without the lock, another program closing the file thinks it is the last one,
    deletes the -wal and -shm, and the workstation's later saves never reach the file."""
    create_patient(db, NewPatient("Ona", "Before", "1980-01-01", "F"), today=DAY)
    reader = connect_reader(db.file)
    try:
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                " c.execute('SELECT count(*) FROM patients').fetchone(); c.close()",
                str(db.file),
            ],
            timeout=60,
        )
        assert other.returncode == 0
        saved_after = create_patient(db, NewPatient("Ona", "After", "1980-01-01", "F"), today=DAY)
        fresh = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                " print(c.execute('SELECT last_name FROM patients WHERE id = ?',"
                " (int(sys.argv[2]),)).fetchone())",
                str(db.file),
                str(saved_after),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        reader.close()
    assert fresh.stdout.strip() == "('After',)", (
        "a save after another program closed the file was lost"
    )
