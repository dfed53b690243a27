"""Privacy: every file the app creates is the owner's alone, crash reports hold no patient
data, and erasure on request really removes a patient."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import DAY
from typer.testing import CliRunner

from kinesio_tui.cli import app
from kinesio_tui.crash import crash_dir, report_text, write_crash_report
from kinesio_tui.data.db import ClinicDB, connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient, find_patients
from kinesio_tui.errors import KinesioError, NotFound
from kinesio_tui.locations import data_dir
from kinesio_tui.maintenance.audit import verify_chain
from kinesio_tui.maintenance.backup import auto_backup, backup_database, restore_database
from kinesio_tui.maintenance.erase import erase_patient

runner = CliRunner()
#: The demo clinic's second published case (module 2, visit in progress today).
RUTA_ID = 2
CLINICAL = (
    "patients",
    "episodes",
    "visits",
    "checklist_ticks",
    "pir_cycles",
    "measurements",
    "red_flag_screens",
    "episode_holds",
    "hold_overrides",
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that hides nothing: permissions must come from the code, not the user."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_every_file_the_app_creates_is_private(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "clinic" / "kinesio.db"
    db = connect(path)
    try:
        db.execute("PRAGMA wal_autocheckpoint = 0")
        pid = create_patient(db, NewPatient("Ona", "Private", "1970-01-01", "F"), today=DAY)
        open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
        for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert _mode(companion) == 0o600, companion.name
        created: dict[str, Path] = {"database": path}
        created["manual backup"] = backup_database(path, tmp_path / "out" / "copy.db")
        auto = auto_backup(path, now=datetime(2026, 11, 25, 8, 0))
        assert auto is not None
        created["automatic backup"] = auto
        db.close()  # restore holds the file alone
        created["kept on restore"] = restore_database(path, auto).kept or path
        created["crash report"] = write_crash_report(RuntimeError("boom"))
        from kinesio_tui.export import export_patient
        from kinesio_tui.export.files import default_export_dir

        db = connect(path)
        created["export"] = export_patient(
            db, 1, kind="summary", fmt="md", out_dir=default_export_dir(), today=DAY
        )
        created["export dir"] = created["export"].parent
        created["export in new folders"] = export_patient(
            db, 1, kind="summary", fmt="html", out_dir=tmp_path / "a" / "b" / "c", today=DAY
        )
    finally:
        db.close()
    folders = {
        "database dir": path.parent,
        "backup dir": created["automatic backup"].parent,
        "manual backup dir": created["manual backup"].parent,
        "data dir": data_dir(),
        "crash dir": crash_dir(),
        "export dir": created.pop("export dir"),
        **{f"export folder {part}": tmp_path / part for part in ("a", "a/b", "a/b/c")},
    }
    for name, file in created.items():
        assert file.is_file(), name
        assert _mode(file) == 0o600, name
    for name, folder in folders.items():
        assert _mode(folder) == 0o700, name


def test_exported_reports_are_private(demo_db: ClinicDB, loose_umask: None) -> None:
    from kinesio_tui.export import export_patient
    from kinesio_tui.export.files import default_export_dir

    made = export_patient(
        demo_db, 1, kind="summary", fmt="html", out_dir=default_export_dir(), today=DAY
    )
    assert _mode(made) == 0o600
    assert _mode(made.parent) == 0o700


def test_a_database_left_readable_by_others_is_made_private(db_path: Path) -> None:
    connect(db_path).close()
    os.chmod(db_path, 0o644)
    connect(db_path).close()
    assert _mode(db_path) == 0o600


def _raise_with_patient_data() -> None:
    patient = {"name": "Rūta Žemaitė", "vas": 7}  # a local: must not reach the report
    raise ValueError(f"bad value for {patient['name']}: VAS {patient['vas']}")


def test_a_crash_report_holds_no_patient_data(loose_umask: None) -> None:
    try:
        try:
            _raise_with_patient_data()
        except ValueError as inner:
            raise RuntimeError("while saving Žemaitė's visit") from inner
    except RuntimeError as error:
        path = write_crash_report(error)
    text = path.read_text(encoding="utf-8")
    for secret in ("Rūta", "Žemaitė", "Zemaite", "VAS 7", "bad value"):
        assert secret not in text
    assert "builtins.ValueError" in text and "builtins.RuntimeError" in text
    assert "_raise_with_patient_data" in text  # enough to find the fault
    assert "python:" in text and "textual:" in text
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700


def test_a_kinesio_error_keeps_its_title_only() -> None:
    text = report_text(KinesioError("Cannot save visit", "Rūta Žemaitė's note is too long"))
    assert "Cannot save visit" in text
    assert "Žemaitė" not in text


def test_the_cli_turns_an_unexpected_error_into_one_calm_line(tmp_path: Path) -> None:
    connect(tmp_path / "c.db").close()
    code = (
        "import sys\n"
        "import kinesio_tui.domain.roster as roster\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('Rūta Žemaitė, VAS 7')\n"
        "roster.roster = boom\n"
        "from kinesio_tui.cli import main\n"
        f"sys.argv = ['kinesio', 'patients', 'list', '--db', {str(tmp_path / 'c.db')!r}]\n"
        "main()\n"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Žemaitė" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Saved records are safe" in lines[0]
    report = Path(lines[0].rsplit(" ", 1)[1])
    assert report.is_file() and report.is_relative_to(tmp_path / "state")
    assert "Žemaitė" not in report.read_text(encoding="utf-8")


def _count(db: ClinicDB, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_erasure_removes_the_patient_everywhere_but_keeps_the_trail_verifiable(
    demo_db: ClinicDB,
) -> None:
    others = {t: _count(demo_db, t) for t in CLINICAL}
    mine = {
        "patients": 1,
        "episodes": _count_where(demo_db, "episodes", "patient_id = 2"),
    }
    assert mine["episodes"] >= 1
    entries = _count(demo_db, "audit_log")
    erasure = erase_patient(demo_db, RUTA_ID)
    assert erasure.complete, erasure.pending
    counts = erasure.counts
    assert counts["patients"] == 1 and counts["visits"] >= 45 and counts["red_flag_screens"] >= 1
    for table in CLINICAL:
        assert _count(demo_db, table) == others[table] - counts.get(table, 0), table
    assert demo_db.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(NotFound):
        from kinesio_tui.domain.patients import get_patient

        get_patient(demo_db, RUTA_ID)
    assert find_patients(demo_db, "Žemaitė") == []
    # the trail: same entries plus one 'erase', none holding her values, all verifying
    assert _count(demo_db, "audit_log") == entries + 1
    left = demo_db.execute(
        "SELECT count(*) FROM audit_log WHERE patient_id = ? AND (old IS NOT NULL OR "
        "(new IS NOT NULL AND action != 'erase'))",
        [RUTA_ID],
    ).fetchone()[0]
    assert left == 0
    report = verify_chain(demo_db)
    assert report.ok, report.problems[:3]
    assert report.erased > 45
    # nothing of her is left in the file (secure_delete, FTS merged, WAL checkpointed)
    raw = demo_db.file.read_bytes() + _wal_bytes(demo_db.file)
    for secret in ("Žemaitė", "zemaite", "Rūta", "+370 655 18230"):
        assert secret.encode() not in raw, secret
    assert b"Petrauskas" in raw  # the others are still there


def _count_where(db: ClinicDB, table: str, where: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])


def _wal_bytes(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_erase_command_asks_for_the_id(demo_db_path: Path) -> None:
    wrong = runner.invoke(app, ["erase", "2", "--db", str(demo_db_path)], input="3\n")
    assert wrong.exit_code == 1
    assert "Not erased" in wrong.output
    raw = sqlite3.connect(demo_db_path)
    assert raw.execute("SELECT count(*) FROM patients WHERE id = 2").fetchone()[0] == 1
    raw.close()
    right = runner.invoke(app, ["erase", "2", "--db", str(demo_db_path)], input="2\n")
    assert right.exit_code == 0, right.output
    assert "Patient 2 erased" in right.output
    assert "Žemaitė" not in right.output
    again = runner.invoke(app, ["erase", "2", "--yes", "--db", str(demo_db_path)])
    assert again.exit_code == 0  # already erased: only checks that nothing is pending
    assert "complete" in again.output and "records removed" not in again.output
    missing = runner.invoke(app, ["erase", "9999", "--yes", "--db", str(demo_db_path)])
    assert missing.exit_code == 2
    verified = runner.invoke(app, ["audit", "verify", "--db", str(demo_db_path)])
    assert verified.exit_code == 0, verified.output
    shown = runner.invoke(app, ["audit", "show", "2", "--db", str(demo_db_path)])
    assert shown.exit_code == 0
    assert "values erased on request" in shown.output
    assert "erase patients 2" in shown.output


def test_a_failed_erasure_changes_nothing(demo_db: ClinicDB) -> None:
    before = {t: _count(demo_db, t) for t in (*CLINICAL, "audit_log")}
    with pytest.raises(NotFound):
        erase_patient(demo_db, 9999)
    assert {t: _count(demo_db, t) for t in before} == before


def test_private_dir_makes_every_folder_it_creates_owner_only(tmp_path: Path) -> None:
    from kinesio_tui.locations import private_dir

    private_dir(tmp_path / "a" / "b" / "c")
    for folder in ("a", "a/b", "a/b/c"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o700, folder
