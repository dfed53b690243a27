"""`kinesio backup DEST`: never replaces a file unasked, never writes into anything but a file.

A refused backup leaves every file byte-identical: the database and whatever DEST was.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DAY

from kinesio_tui.data.db import ClinicDB
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.errors import KinesioError
from kinesio_tui.maintenance.backup import backup_database

KINESIO = Path(sys.executable).with_name("kinesio")


def _kinesio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KINESIO), *args], capture_output=True, text=True, timeout=60, check=False
    )


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under `folder`: a regular file's bytes, or what kind of thing it is."""
    seen: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        name = str(path.relative_to(folder))
        seen[name] = path.read_bytes() if stat.S_ISREG(mode) else stat.filemode(mode)
    return seen


def _clinic(db: ClinicDB) -> None:
    create_patient(db, NewPatient("Ona", "Backed", "1970-01-01", "F"), today=DAY)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_an_existing_file_is_not_replaced_without_force(db: ClinicDB, tmp_path: Path) -> None:
    _clinic(db)
    dest = tmp_path / "out" / "monday.db"
    dest.parent.mkdir()
    dest.write_bytes(b"last week's backup, not to be lost")
    before = _snapshot(tmp_path)
    refused = _kinesio("backup", str(dest), "--db", str(db.file))
    assert refused.returncode == 2, refused.stderr
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert _snapshot(tmp_path) == before
    forced = _kinesio("backup", str(dest), "--force", "--db", str(db.file))
    assert forced.returncode == 0, forced.stderr
    assert dest.read_bytes().startswith(b"SQLite format 3\x00")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_a_fifo_or_a_link_to_one_is_never_written_to_or_replaced(
    db: ClinicDB, tmp_path: Path
) -> None:
    _clinic(db)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link-to-pipe"
    link.symlink_to(fifo)
    before = _snapshot(tmp_path)
    for dest in (fifo, link):
        for force in ([], ["--force"]):
            refused = _kinesio("backup", str(dest), *force, "--db", str(db.file))
            assert refused.returncode == 2, (dest, force, refused.stderr)
            assert "not a regular file or a folder" in refused.stderr
            assert _snapshot(tmp_path) == before
            assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_folder_gets_a_new_file_and_never_loses_one(db: ClinicDB, tmp_path: Path) -> None:
    _clinic(db)
    folder = tmp_path / "usb"
    folder.mkdir()
    first = _kinesio("backup", str(folder), "--db", str(db.file))
    assert first.returncode == 0, first.stderr
    made = list(folder.iterdir())
    assert len(made) == 1 and made[0].name.startswith("clinic.manual-")
    # the next backup in the same second would get the same name: refused, not replaced
    made[0].write_bytes(b"an older copy under the same name")
    before = _snapshot(tmp_path)
    with pytest.raises(KinesioError, match="already exists"):
        backup_database(db.file, made[0])
    assert _snapshot(tmp_path) == before
