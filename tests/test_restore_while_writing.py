"""`kinesio restore` while another process commits: no acknowledged commit is ever lost.

A real writer process adds patients in a loop and prints each one's tag once committed.
Whatever restore does (swap the data, or refuse because the file is in use), every
acknowledged tag must be in the copy restore kept or in the database afterwards.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.maintenance.backup import backup_database

pytestmark = pytest.mark.slow  # real processes: seconds each, a minute when busy
KINESIO = Path(sys.executable).with_name("kinesio")

#: The writer: `persistent` keeps one connection open (as the workstation does);
#: `reconnect` opens one per commit (as a script running `kinesio` commands does).
WRITER = """
import sqlite3, sys, time
from datetime import date
from pathlib import Path
from kinesio_tui.data.db import connect
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.errors import KinesioError

path, mode = Path(sys.argv[1]), sys.argv[2]
db = None
n = 0
while True:
    try:
        if db is None:
            db = connect(path, actor="writer")
        create_patient(
            db, NewPatient("Writer", "Loop", "1970-01-01", "F", phone=f"+370 600 {n:05d}"),
            today=date(2026, 11, 25),
        )
    except (KinesioError, sqlite3.OperationalError):
        time.sleep(0.005)
    else:
        print(n, flush=True)
        n += 1
    if mode == "reconnect" and db is not None:
        db.close()
        db = None
        time.sleep(0.02)  # a script starting its next command
"""


def _tags(path: Path) -> set[int]:
    raw = sqlite3.connect(path)
    try:
        phones = [
            r[0] for r in raw.execute("SELECT phone FROM patients WHERE first_name = 'Writer'")
        ]
    finally:
        raw.close()
    return {int(p.rsplit(" ", 1)[1]) for p in phones}


def _wait_for_acks(proc: subprocess.Popen[str], acks: list[int], count: int) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(acks) < count and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the writer stopped"
        acks.append(int(line))


def _restore_while_writing(
    db: ClinicDB, tmp_path: Path, mode: str
) -> tuple[subprocess.CompletedProcess[str], set[int], list[int], set[int]]:
    create_patient(db, NewPatient("Ona", "Before", "1970-01-01", "F"), today=DAY)
    saved = backup_database(db.file, tmp_path / "saved.db")
    db.close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db.file), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    acks: list[int] = []
    try:
        _wait_for_acks(writer, acks, 30)
        restored = subprocess.run(
            [str(KINESIO), "restore", str(saved), "--yes", "--db", str(db.file)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        _wait_for_acks(writer, acks, len(acks) + 30)
    finally:
        writer.kill()
        writer.wait()
        assert writer.stdout is not None
        acks += [int(line) for line in writer.stdout.read().split()]
        writer.stdout.close()
    kept = re.search(r"kept in (\S+)", restored.stdout)
    kept_tags = _tags(Path(kept.group(1))) if kept else set()
    return restored, kept_tags, acks, _tags(db.file)


def test_restore_with_a_workstation_open_loses_no_acknowledged_commit(
    db: ClinicDB, tmp_path: Path
) -> None:
    restored, kept, acks, now = _restore_while_writing(db, tmp_path, "persistent")
    lost = set(acks) - kept - now
    assert not lost, f"{len(lost)} acknowledged commits lost; restore said {restored.stdout}"
    # the writer holds the file open all along: restore refuses and names it
    assert restored.returncode == 2, restored.stdout
    assert "in use" in restored.stderr and "python" in restored.stderr.lower()
    assert now == set(acks) | (now - set(acks))  # and nothing of the live data went


def test_restore_between_commands_keeps_every_acknowledged_commit(
    db: ClinicDB, tmp_path: Path
) -> None:
    restored, kept, acks, now = _restore_while_writing(db, tmp_path, "reconnect")
    assert restored.returncode == 0, restored.stderr
    lost = set(acks) - kept - now
    assert not lost, f"{len(lost)} acknowledged commits lost"
    # the restored file holds the backup, then only what was written after the swap
    assert kept and now and max(kept) < min(now)
    assert max(now) == max(acks) or max(now) >= max(acks) - 1
