"""Writing files when the disk is full, read-only or the umask is loose; leftovers swept.

The full disk is real: a small tmpfs mounted for the test (root), or RLIMIT_FSIZE in a
child process, which makes the OS refuse the write (EFBIG) exactly as a full disk does
(ENOSPC). Nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DAY
from real_cli import (
    assert_one_line_refusal,
    fill_up,
    remount_read_only,
    run,
    small_disk,
)

from kinesio_tui.data.db import connect
from kinesio_tui.private_files import leftover_pid


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.slow
def test_a_full_disk_leaves_no_export_and_the_retry_writes_it(
    demo_db_path: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    with small_disk(disk, 256) as mounted:
        if not mounted:
            pytest.skip("mounting a small tmpfs needs root (the EFBIG test below runs anywhere)")
        out = disk / "exports"
        out.mkdir()
        filler = fill_up(disk)
        ran = run("export", "1", "--out", str(out), "--db", str(demo_db_path))
        assert_one_line_refusal(ran)
        assert "No space left on device" in ran.err, ran
        assert _tree(out) == []  # no 0-byte file, no temporary file
        every = run("export", "--all", "--out", str(out), "--db", str(demo_db_path))
        assert every.code == 2, every
        assert "Stopped: 0 written" in every.err and "Something went wrong" not in every.err
        assert _tree(out) == []
        filler.unlink()
        again = run("export", "1", "--out", str(out), "--db", str(demo_db_path))
        assert again.code == 0, again  # not refused as "already exists"
        made = Path(again.out.strip())
        assert made.read_text(encoding="utf-8").rstrip().endswith("</html>")
        assert _mode(made) == 0o600 and _tree(out) == [made.name]


def test_an_interrupted_write_leaves_nothing_and_the_retry_succeeds(tmp_path: Path) -> None:
    """The OS refuses the write past 4 KiB (RLIMIT_FSIZE: EFBIG, as a full disk would)."""
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from kinesio_tui.export.files import write_private\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        f"    write_private(Path({str(target)!r}), 'x' * 100_000)\n"
        "except OSError as error:\n"
        "    print(error.errno)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stdout.strip() == "27", done  # EFBIG
    assert _tree(target.parent) == []
    from kinesio_tui.export.files import write_private

    write_private(target, "whole report")
    assert target.read_text() == "whole report" and _mode(target) == 0o600


def test_export_into_new_folders_is_private_whatever_the_umask(
    demo_db_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a" / "b" / "c"
    ran = run(
        "export", "1", "--format", "md", "--out", str(out), "--db", str(demo_db_path), umask=0
    )
    assert ran.code == 0, ran
    for folder in (tmp_path / "a", tmp_path / "a" / "b", out):
        assert _mode(folder) == 0o700, folder
    assert _mode(Path(ran.out.strip())) == 0o600


def test_templates_copy_is_private_whatever_the_umask(tmp_path: Path) -> None:
    ran = run("templates", "copy", umask=0)
    assert ran.code == 0, ran
    root = tmp_path / "xdg-config"
    made = [root, *root.rglob("*")]
    assert any(p.is_file() for p in made)
    for path in made:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    again = run("templates", "copy", umask=0)
    assert again.code == 0 and "0 templates copied" in again.out, again


def test_the_default_export_folder_is_made_only_for_a_written_report(
    demo_db_path: Path, tmp_path: Path
) -> None:
    ran = run("export", "9999", "--db", str(demo_db_path))
    assert_one_line_refusal(ran)
    assert not (tmp_path / "xdg-data" / "kinesio-tui" / "exports").exists()
    made = run("export", "1", "--db", str(demo_db_path))
    assert made.code == 0, made
    folder = tmp_path / "xdg-data" / "kinesio-tui" / "exports"
    assert Path(made.out.strip()).parent == folder and _mode(folder) == 0o700


def test_leftovers_of_dead_processes_are_swept_and_nothing_else(
    demo_db_path: Path, tmp_path: Path
) -> None:
    dead, alive = _dead_pid(), os.getpid()
    out = tmp_path / "out"
    out.mkdir()
    ours = [
        out / f".patient-0001-summary-{DAY.isoformat()}.md.{dead}.0a1b2c3d.partial",
        out / f".copy.db.{dead}.partial",
        demo_db_path.with_name(f".{demo_db_path.name}.restore-{dead}"),
        demo_db_path.with_name(f".{demo_db_path.name}.restore-{dead}-wal"),
        demo_db_path.with_name(f".other.auto-20261125-080000.db.{dead}.partial"),
        tmp_path / "xdg-data" / "kinesio-tui" / "backups" / f".demo.auto-x.db.{dead}.partial",
    ]
    ours[-1].parent.mkdir(parents=True)
    kept = [
        out / f".notes.{alive}.partial",  # its process is running
        out / ".notes.partial",  # not one of our names
        out / f"notes.{dead}.partial",  # not hidden
        out / f".mine.{dead}.partial.txt",  # not one of our names
    ]
    for path in [*ours, *kept]:
        path.write_text("left behind")
    link = out / f".link.{dead}.partial"  # a link is never followed or removed
    link.symlink_to(out / "notes.txt")
    if os.geteuid() == 0:  # another user's file with our name shape is theirs
        foreign = out / f".theirs.{dead}.partial"
        foreign.write_text("left behind")
        os.chown(foreign, 65534, 65534)
        kept.append(foreign)
    for path in ours:
        assert leftover_pid(path.name) == dead, path
    ran = run("export", "1", "--format", "md", "--out", str(out), "--db", str(demo_db_path))
    assert ran.code == 0, ran
    assert [p for p in ours if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert link.is_symlink()


@pytest.mark.slow
def test_a_read_only_mount_gets_one_line_and_no_crash_report(
    demo_db_path: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "ro"
    with small_disk(disk, 16384) as mounted:
        if not mounted:
            pytest.skip("a read-only mount needs root")
        db = disk / "clinic.db"
        shutil.copyfile(demo_db_path, db)
        os.chmod(db, 0o600)
        out = disk / "exports"
        out.mkdir()
        assert remount_read_only(disk)
        on_disk = ["--db", str(db)]
        for args in (
            ["patients", "list", *on_disk],
            ["check", *on_disk],
            ["patients", "add", "--first", "Ona", "--last", "Ro", "--born", "1970-01-01",
             "--sex", "F", *on_disk],
            ["init", "--db", str(disk / "new" / "c.db")],
            ["export", "1", "--out", str(out), "--db", str(demo_db_path)],
        ):  # fmt: skip
            ran = run(*args)
            assert_one_line_refusal(ran)
            assert "read-only" in ran.err.lower(), ran
            assert ".partial" not in ran.err, ran  # the report's name, not the temporary one
        assert not (tmp_path / "xdg-state").exists()  # no crash report


def test_the_database_on_a_full_disk_gets_one_line_and_keeps_its_records(
    demo_db_path: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    with small_disk(disk, 16384) as mounted:
        if not mounted:
            pytest.skip("mounting a small tmpfs needs root")
        db = disk / "clinic.db"
        shutil.copyfile(demo_db_path, db)
        os.chmod(db, 0o600)
        connect(db).close()
        before = sqlite3.connect(db).execute("SELECT count(*) FROM patients").fetchone()[0]
        filler = fill_up(disk)
        ran = run(
            "patients", "add", "--first", "Ona", "--last", "Pilna", "--born", "1970-01-01",
            "--sex", "F", "--db", str(db),
        )  # fmt: skip
        assert_one_line_refusal(ran)
        assert "full" in ran.err.lower(), ran
        filler.unlink()
        raw = sqlite3.connect(db)
        assert raw.execute("SELECT count(*) FROM patients").fetchone()[0] == before
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        raw.close()
