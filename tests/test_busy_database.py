"""Another program holds the write lock (a `sqlite3` shell mid-transaction): wait, then say so.

The lock is held by a real second connection on the same file; the waits are shortened
here (the defaults are WRITE_WAIT_S and the workstation's retry limit).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kinesio_tui.data import db as db_module
from kinesio_tui.data.db import connect, write_transaction
from kinesio_tui.data.engines import sqlite as sqlite_engine
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import count_patients, create_patient
from kinesio_tui.errors import DatabaseBusy


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "WRITE_WAIT_S", 0.6, raising=False)
    monkeypatch.setattr(sqlite_engine, "WAIT_NOTICE_S", 0.1)
    monkeypatch.setattr(sqlite_engine, "BUSY_TIMEOUT_MS", 600)  # what today's code waits


@pytest.fixture
def clinic(db_path: Path) -> Path:
    connect(db_path).close()
    return db_path


@pytest.fixture
def locked(clinic: Path) -> Iterator[sqlite3.Connection]:
    """Another program in the middle of a write transaction, like `sqlite3 clinic.db` after
    BEGIN IMMEDIATE."""
    other = sqlite3.connect(clinic, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def test_a_write_gives_up_with_database_busy_and_writes_nothing(
    short_waits: None, clinic: Path, locked: sqlite3.Connection
) -> None:
    told: list[float] = []
    with connect(clinic, actor="tester") as db:
        db.on_wait = lambda: told.append(time.monotonic())
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as busy:
            create_patient(db, NewPatient("Ona", "Laukianti", "1980-01-01", "F"))
        waited = time.monotonic() - started
        assert 0.5 < waited < 3
        assert len(told) == 1  # said once that it is waiting
        assert "nothing was saved" in busy.value.message
        assert not db.conn.in_transaction
        locked.execute("ROLLBACK")
        assert count_patients(db) == 0
        create_patient(db, NewPatient("Ona", "Laukianti", "1980-01-01", "F"))  # free again
        assert count_patients(db) == 1


def test_a_write_goes_through_once_the_other_program_lets_go(
    short_waits: None, clinic: Path, locked: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "WRITE_WAIT_S", 10.0)
    with connect(clinic, actor="tester") as db:

        def let_go() -> None:  # the other program commits once we have said we wait
            locked.execute("COMMIT")

        db.on_wait = let_go
        create_patient(db, NewPatient("Ona", "Laukianti", "1980-01-01", "F"))
        assert count_patients(db) == 1


def test_the_cli_waits_visibly_then_exits_1_with_one_line_and_no_crash_report(
    short_waits: None,
    clinic: Path,
    locked: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from kinesio_tui import cli

    add = ["--first", "Ona", "--last", "Laukianti", "--born", "1980-01-01", "--sex", "F"]
    monkeypatch.setattr(sys, "argv", ["kinesio", "--db", str(clinic), "patients", "add", *add])
    with pytest.raises(SystemExit) as leaving:
        cli.main()
    err = capsys.readouterr().err
    assert leaving.value.code == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("Waiting for the database")
    assert len(lines) == 2 and lines[1].startswith("Database busy: ")
    assert "Traceback" not in err and "Something went wrong" not in err
    assert not list((tmp_path / "xdg-state").rglob("crash-*"))
    locked.execute("ROLLBACK")
    with connect(clinic) as db:
        assert count_patients(db) == 0  # nothing half-written


def test_a_transaction_under_way_is_never_cut_by_the_wait(short_waits: None, clinic: Path) -> None:
    """The wait is for the lock only: inside a transaction nothing waits again."""
    with connect(clinic, actor="tester") as db, write_transaction(db):
        create_patient(db, NewPatient("Ona", "Pirmoji", "1980-01-01", "F"))
        create_patient(db, NewPatient("Jonas", "Antrasis", "1980-01-01", "M"))
    with connect(clinic) as db:
        assert count_patients(db) == 2
