"""Backups of a clinic on PostgreSQL: a portable kinesio SQLite file, checked like any backup,
and brought back onto a server by `migrate --to`. Real server (the test cluster), the real
`kinesio` process."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from real_cli import assert_one_line_refusal, assert_unchanged, files_state, run

from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.maintenance.backup import check_backup
from kinesio_tui.maintenance.transfer import fingerprint

pytestmark = pytest.mark.engines("postgresql")


def _one_backup(folder: Path) -> Path:
    [made] = [p for p in folder.iterdir() if p.suffix == ".db"]
    return made


def test_a_backup_of_a_postgresql_clinic_is_a_checked_portable_file(
    demo_db: ClinicDB, demo_target: str, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    ran = run("backup", str(folder), "--db", demo_target)
    assert ran.code == 0, ran
    made = _one_backup(folder)
    assert ran.out.strip() == f"Backup written: {made}"
    assert made.name.endswith(".db") and "-kinesio.manual-" in made.name
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [made.name]  # nothing half-made left
    assert check_backup(made) == []
    copy = connect(made, actor="tester", migrate=False, create=False)
    try:
        assert fingerprint(copy) == fingerprint(demo_db)
    finally:
        copy.close()
    check = run("check", "--db", str(made))
    assert check.code == 0, check
    assert "Audit trail: ok" in check.out


def test_an_existing_backup_file_is_replaced_only_with_force(
    demo_target: str, tmp_path: Path
) -> None:
    dest = tmp_path / "nightly.db"
    assert run("backup", str(dest), "--db", demo_target).code == 0
    before = files_state(tmp_path)
    again = run("backup", str(dest), "--db", demo_target)
    assert_one_line_refusal(again)
    assert "--force" in again.err
    assert_unchanged(before, tmp_path, again)
    forced = run("backup", str(dest), "--force", "--db", demo_target)
    assert forced.code == 0, forced
    assert check_backup(dest) == []


def test_a_backup_goes_back_onto_a_server_into_an_empty_database(
    demo_db: ClinicDB, demo_target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Restoring onto PostgreSQL is `migrate --to` from the backup file into an empty
    database (or schema) as its owner: the clinic as it was, every row and both trails."""
    dest = tmp_path / "saved.db"
    assert run("backup", str(dest), "--db", demo_target).code == 0
    empty = request.getfixturevalue("pg_database")
    back = run("migrate", "--db", str(dest), "--to", empty.owner_url)
    assert back.code == 0, back
    restored = connect(empty.owner_url, actor="tester")
    try:
        assert fingerprint(restored) == fingerprint(demo_db)
    finally:
        restored.close()
