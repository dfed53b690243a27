"""Backups (online, private, rotating), checked restore, `kinesio check`, safe migrations."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import DAY
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations
from typer.testing import CliRunner

from kinesio_tui.app import build_app
from kinesio_tui.cli import app
from kinesio_tui.data import db as dbmod
from kinesio_tui.data import migrations as migmod
from kinesio_tui.data.db import ClinicDB, connect, known_migrations, schema_version
from kinesio_tui.domain.models import NewPatient
from kinesio_tui.domain.patients import create_patient, get_patient
from kinesio_tui.errors import KinesioError
from kinesio_tui.maintenance.backup import (
    auto_backup,
    auto_backups,
    backup_database,
    backups_dir,
    check_backup,
    pre_migration_backup,
    restore_database,
)
from kinesio_tui.settings import load_settings
from kinesio_tui.upstream_hooks import shown_notifications

runner = CliRunner()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _add(db: ClinicDB, last: str) -> int:
    return create_patient(db, NewPatient("Ona", last, "1970-01-01", "F"), today=DAY)


def _surnames(path: Path) -> list[str]:
    raw = sqlite3.connect(path)
    try:
        return [r[0] for r in raw.execute("SELECT last_name FROM patients ORDER BY id")]
    finally:
        raw.close()


def test_backup_while_open_includes_what_is_still_in_the_wal(db: ClinicDB, tmp_path: Path) -> None:
    db.execute("PRAGMA wal_autocheckpoint = 0")  # keep the commits in the WAL only
    _add(db, "InWal")
    target = backup_database(db.file, tmp_path / "copy.db")
    assert _surnames(target) == ["InWal"]
    assert _mode(target) == 0o600
    assert not Path(f"{target}-wal").exists()  # one self-contained file
    assert check_backup(target) == []
    _add(db, "Later")  # the app keeps working on the original
    assert _surnames(target) == ["InWal"]


def test_backup_command_default_and_explicit_destination(db: ClinicDB, tmp_path: Path) -> None:
    _add(db, "Copied")
    result = runner.invoke(app, ["backup", "--db", str(db.file)])
    assert result.exit_code == 0, result.output
    made = Path(result.output.split("Backup written: ")[1].strip())
    assert made.parent == backups_dir()
    assert _mode(made.parent) == 0o700
    assert _mode(made) == 0o600
    assert _surnames(made) == ["Copied"]
    folder = tmp_path / "usb"
    folder.mkdir()
    result = runner.invoke(app, ["backup", str(folder), "--db", str(db.file)])
    assert result.exit_code == 0
    assert [p.suffix for p in folder.iterdir()] == [".db"]


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backup", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "Nothing to back up" in result.output


def test_automatic_backups_once_a_day_keep_the_newest(db: ClinicDB) -> None:
    _add(db, "Daily")
    start = datetime(2026, 11, 1, 8, 30)
    first = auto_backup(db.file, now=start, keep=3)
    assert first is not None and _mode(first) == 0o600
    assert auto_backup(db.file, now=start + timedelta(hours=5), keep=3) is None  # same day
    for day in range(1, 6):
        assert auto_backup(db.file, now=start + timedelta(days=day), keep=3) is not None
    kept = auto_backups(db.file)
    assert [p.name[len("clinic.auto-") :][:8] for p in kept] == [
        "20261104",
        "20261105",
        "20261106",
    ]
    assert _mode(backups_dir()) == 0o700


def test_backup_settings_are_read_and_checked(
    db: ClinicDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.toml"
    monkeypatch.setenv("KINESIO_SETTINGS", str(settings))
    assert load_settings().backups_to_keep == 14
    settings.write_text("[backups]\nkeep = 2\n")
    start = datetime(2026, 11, 1, 8, 30)
    for day in range(4):
        auto_backup(db.file, now=start + timedelta(days=day))
    assert len(auto_backups(db.file)) == 2
    settings.write_text("[backups]\nautomatic = false\n")
    assert auto_backup(db.file, now=start + timedelta(days=9)) is None
    for broken in ("[backups]\nkeep = 0\n", "[backups]\nkeep = 'many'\n", "keep = [\n"):
        settings.write_text(broken)
        with pytest.raises(KinesioError, match="settings"):
            load_settings()


def test_restore_replaces_contents_and_keeps_the_old_data(db: ClinicDB, tmp_path: Path) -> None:
    _add(db, "Original")
    saved = backup_database(db.file, tmp_path / "saved.db")
    _add(db, "AfterBackup")
    db.close()
    other_terminal = connect(db.file)
    try:  # another terminal has the file open: refused, nothing changed, nothing kept
        with pytest.raises(KinesioError, match="in use"):
            restore_database(db.file, saved, now=datetime(2026, 11, 25, 9, 0))
        assert _surnames(db.file) == ["Original", "AfterBackup"]
        assert not list(db.file.parent.glob("clinic.replaced-*"))
    finally:
        other_terminal.close()
    done = restore_database(db.file, saved, now=datetime(2026, 11, 25, 9, 0))
    assert _surnames(db.file) == ["Original"]
    assert done.kept is not None
    assert done.kept.name == "clinic.replaced-20261125-090000.db"
    assert _surnames(done.kept) == ["Original", "AfterBackup"]
    assert _mode(done.kept) == 0o600 and _mode(db.file) == 0o600
    assert check_backup(db.file) == []
    # the restored file is fully usable, audit chain included
    again = connect(db.file)
    try:
        assert get_patient(again, _add(again, "New")).last_name == "New"
    finally:
        again.close()
    assert check_backup(db.file) == []


def _bad_backups(tmp_path: Path, good: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}
    text = tmp_path / "notes.db"
    text.write_text("Surname;First name\n" * 100)
    made["not sqlite"] = text
    foreign = tmp_path / "foreign.db"
    raw = sqlite3.connect(foreign)
    raw.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    raw.close()
    made["not kinesio"] = foreign
    newer = tmp_path / "newer.db"
    newer.write_bytes(good.read_bytes())
    raw = sqlite3.connect(newer)
    raw.execute(f"PRAGMA user_version = {len(known_migrations()) + 1}")
    raw.close()
    made["newer"] = newer
    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(good.read_bytes())
    raw = sqlite3.connect(tampered)
    raw.execute("DROP TRIGGER audit_log_only_erasure")
    raw.execute("UPDATE audit_log SET actor = 'forger' WHERE id = 1")
    raw.commit()
    raw.close()
    made["audit"] = tampered
    headless = tmp_path / "headless.db"
    headless.write_bytes(good.read_bytes())
    raw = sqlite3.connect(headless)
    raw.execute("DROP TRIGGER audit_log_head")
    raw.execute("DROP TRIGGER audit_head_no_delete")
    raw.execute("DROP TABLE audit_head")
    raw.commit()
    raw.close()
    made["no audit_head"] = headless
    rows = tmp_path / "rows.db"
    rows.write_bytes(good.read_bytes())
    raw = sqlite3.connect(rows)
    raw.execute("UPDATE patients SET last_name = 'Changed' WHERE id = 1")
    raw.commit()
    raw.close()
    made["a record changed outside the program"] = rows
    damaged = tmp_path / "damaged.db"
    data = bytearray(good.read_bytes())
    page = 4096
    for offset in range(page * 2, min(len(data), page * 6)):  # scribble over b-tree pages
        data[offset] = 0xA5
    damaged.write_bytes(bytes(data))
    made["damaged"] = damaged
    return made


def test_restore_refuses_bad_backups_and_changes_nothing(db: ClinicDB, tmp_path: Path) -> None:
    for i in range(20):
        _add(db, f"Kept{i}")
    good = backup_database(db.file, tmp_path / "good.db")
    before = _surnames(db.file)
    for why, bad in _bad_backups(tmp_path, good).items():
        assert check_backup(bad), why
        with pytest.raises(KinesioError, match="refused"):
            restore_database(db.file, bad)
        result = runner.invoke(app, ["restore", str(bad), "--yes", "--db", str(db.file)])
        assert result.exit_code == 2, why
        assert "refused" in result.output
        assert _surnames(db.file) == before, why
    assert not list(db.file.parent.glob("clinic.replaced-*"))


def test_restore_command_asks_first(db: ClinicDB, tmp_path: Path) -> None:
    _add(db, "Asked")
    saved = backup_database(db.file, tmp_path / "saved.db")
    _add(db, "Second")
    db.close()
    result = runner.invoke(app, ["restore", str(saved), "--db", str(db.file)], input="n\n")
    assert result.exit_code == 1
    assert _surnames(db.file) == ["Asked", "Second"]
    result = runner.invoke(app, ["restore", str(saved), "--db", str(db.file)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "kept in" in result.output
    assert _surnames(db.file) == ["Asked"]


def test_check_passes_a_healthy_file(db: ClinicDB) -> None:
    from kinesio_tui.domain.episodes import open_episode
    from kinesio_tui.domain.models import NewEpisode

    pid = _add(db, "Healthy")
    open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    result = runner.invoke(app, ["check", "--db", str(db.file)])
    assert result.exit_code == 0, result.output
    assert "healthy" in result.output


def test_check_finds_broken_links(db: ClinicDB) -> None:
    _add(db, "Linked")
    raw = sqlite3.connect(db.file)
    raw.execute(
        "INSERT INTO episodes (patient_id, condition, subtype, side, course, status, opened_on, "
        "created_at, updated_at) VALUES (999, 'sciatica', 'upper', 'L', 'acute', 'active', "
        "'2026-01-01', 'x', 'x')"
    )
    raw.commit()
    raw.close()
    result = runner.invoke(app, ["check", "--db", str(db.file)])
    assert result.exit_code == 1
    assert "episodes row 1 points at a missing patients record" in result.output


def test_check_of_a_missing_file_does_not_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = runner.invoke(app, ["check", "--db", str(missing)])
    assert result.exit_code == 2
    assert not missing.exists()


def _with_extra_migrations(monkeypatch: pytest.MonkeyPatch, *extra: str) -> None:
    """Use a copy of the migration set with extra steps: '0098_ok' works, '0099_boom' fails."""
    copy = Migrations("kinesio")
    for step in migmod.migrations.pending(Database(memory=True, execute_plugins=False)):
        if step.name not in {"0098_ok", "0099_boom"}:
            copy(name=step.name)(step.fn)

    if "0098_ok" in extra:

        @copy(name="0098_ok")
        def ok(db: Database) -> None:
            db.execute("CREATE TABLE extra_ok (id INTEGER PRIMARY KEY)")
            db.execute("UPDATE patients SET notes = 'touched'")

    if "0099_boom" in extra:

        @copy(name="0099_boom")
        def boom(db: Database) -> None:
            db.execute("CREATE TABLE extra_boom (id INTEGER PRIMARY KEY)")
            raise RuntimeError("migration bug")

    monkeypatch.setattr(migmod, "migrations", copy)
    steps = tuple(name for name in dbmod.SCHEMA_STEPS if name not in {"0098_ok", "0099_boom"})
    monkeypatch.setattr(dbmod, "SCHEMA_STEPS", (*steps, *extra))


def test_a_failing_migration_leaves_the_file_as_it_was(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = connect(db_path)
    _add(db, "Before")
    db.close()
    raw = sqlite3.connect(db_path)
    version = raw.execute("PRAGMA user_version").fetchone()[0]
    raw.close()
    _with_extra_migrations(monkeypatch, "0098_ok", "0099_boom")
    with pytest.raises(RuntimeError, match="migration bug"):
        connect(db_path, backup_first=pre_migration_backup)
    raw = sqlite3.connect(db_path)
    try:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        assert not tables & {"extra_ok", "extra_boom"}
        assert raw.execute("PRAGMA user_version").fetchone()[0] == version
        applied = [r[0] for r in raw.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert "0098_ok" not in applied
        assert raw.execute("SELECT notes FROM patients").fetchone()[0] == ""
    finally:
        raw.close()
    # the automatic backup was taken before anything was tried
    backups = sorted(backups_dir().glob("clinic.pre-migration-*.db"))
    assert len(backups) == 1
    assert _surnames(backups[0]) == ["Before"]
    assert _mode(backups[0]) == 0o600


def test_a_working_migration_runs_after_a_backup(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(db_path).close()
    _with_extra_migrations(monkeypatch, "0098_ok")
    db = connect(db_path, backup_first=pre_migration_backup)
    try:
        assert "extra_ok" in db.table_names()
        assert schema_version(db) == len(known_migrations())
    finally:
        db.close()
    assert len(list(backups_dir().glob("clinic.pre-migration-*.db"))) == 1


def test_the_workstation_and_the_cli_back_up_before_migrating(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pass the pre-migration backup to connect (the data layer cannot import it)."""
    connect(db_path).close()
    _with_extra_migrations(monkeypatch, "0098_ok")
    build_app(db_path).db.close()
    taken = list(backups_dir().glob("clinic.pre-migration-*.db"))
    assert len(taken) == 1
    taken[0].unlink()
    _with_extra_migrations(monkeypatch, "0098_ok", "0099_boom")
    result = runner.invoke(app, ["patients", "list", "--db", str(db_path)])
    assert result.exit_code != 0  # 0099_boom fails, after the copy
    assert len(list(backups_dir().glob("clinic.pre-migration-*.db"))) == 1


def test_a_new_file_is_not_backed_up_before_its_first_migration(db_path: Path) -> None:
    connect(db_path, backup_first=pre_migration_backup).close()
    assert not list(backups_dir().iterdir())


def _open_workstation_once(db_path: Path, *, daily_backup: bool = True) -> list[str]:
    """Run the real app until its background work is done; returns its notifications."""
    from kinesio_tui.app import build_app

    async def main() -> list[str]:
        app = build_app(db_path, daily_backup=daily_backup)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            return [n.message for n in shown_notifications(app)]

    return asyncio.run(main())


def test_opening_the_workstation_takes_the_daily_backup(db: ClinicDB) -> None:
    _add(db, "Opened")
    assert _open_workstation_once(db.file) == []
    made = auto_backups(db.file)
    assert len(made) == 1 and _surnames(made[0]) == ["Opened"]
    _open_workstation_once(db.file)  # once a day
    assert auto_backups(db.file) == made
    demo_like = db.file.with_name("other.db")
    connect(demo_like).close()
    _open_workstation_once(demo_like, daily_backup=False)  # the demo clinic: none
    assert auto_backups(demo_like) == []


def test_a_failing_daily_backup_only_warns(
    db: ClinicDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "settings.toml"
    broken.write_text("[backups]\nkeep = -1\n")
    monkeypatch.setenv("KINESIO_SETTINGS", str(broken))
    notes = _open_workstation_once(db.file)  # the clinic still opens, and says why
    assert any("Automatic backup not taken" in note for note in notes), notes
