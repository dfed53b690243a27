"""The real `kinesio` process on files it must refuse: nothing created, changed or removed.

Every command, with every option (`--therapist` and the export options too), is run as a
process on a folder, a text file, another program's database, a device node, a FIFO, an
empty file, a damaged kinesio file, a newer kinesio file, a path that is too long, and a
path that does not exist. After each refusal every file and folder under the test's
folder (the XDG data, config and state folders included) must be exactly as before:
same bytes, mode, mtime and owner, and nothing new (no database, no -wal, no folder, no
crash report).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from real_cli import (
    Ran,
    assert_one_line_refusal,
    assert_unchanged,
    char_device,
    damage_pages,
    files_state,
    foreign_sqlite,
    run,
)

from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient
from kinesio_tui.maintenance.backup import backup_database

pytestmark = pytest.mark.slow  # real processes: seconds each, a minute when busy


def _kinesio_file(path: Path) -> Path:
    db = connect(path)
    for surname in ("Butkienė", "Petrauskas", "Žemaitė") * 20:
        pid = create_patient(db, NewPatient("Ona", surname, "1970-01-01", "F"), today=DAY)
    open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    db.close()
    return path


def _folder(path: Path) -> Path:
    path.mkdir(mode=0o755)
    (path / "inside.txt").write_text("a file in the folder\n")
    os.chmod(path, 0o755)
    return path


def _text(path: Path) -> Path:
    path.write_text("Shopping list\nmilk\n")
    os.chmod(path, 0o644)
    return path


def _empty(path: Path) -> Path:
    path.touch()
    os.chmod(path, 0o644)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path, 0o644)
    os.chmod(path, 0o644)
    return path


def _device(path: Path) -> Path:
    made = char_device(path)
    if made is None:
        pytest.skip("making a device node needs root")
    return made


def _damaged(path: Path) -> Path:
    return damage_pages(_kinesio_file(path))


def _newer(path: Path) -> Path:
    _kinesio_file(path)
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 999")
    raw.commit()
    raw.close()
    return path


def _missing(path: Path) -> Path:
    return path.parent / "absent" / "deeper" / path.name


def _too_long(path: Path) -> Path:
    return path.parent / ("x" * 300) / path.name


#: How to make each odd `--db`; the file is made in an empty folder of its own.
ODD: dict[str, Callable[[Path], Path]] = {
    "folder": _folder,
    "text file": _text,
    "other program's database": lambda p: foreign_sqlite(p),
    "other program's WAL database": lambda p: foreign_sqlite(p, wal=True),
    "other program's id": lambda p: foreign_sqlite(p, application_id=0x12345678),
    "device node": _device,
    "fifo": _fifo,
    "empty file": _empty,
    "damaged kinesio file": _damaged,
    "newer kinesio file": _newer,
    "missing path": _missing,
    "path too long": _too_long,
}
#: The one odd file SQLite has to open to find it odd: opening a WAL file makes its -wal and
#: -shm and removes them again, which moves the folder's mtime (the files are unchanged).
OPENED = {"damaged kinesio file"}
#: Commands that create a database where there is none: refused on every odd file but
#: allowed (so left out below) on a missing path or an empty file, which hold nothing.
CREATING = {"init", "demo", "workstation", "restore"}
TAKEN = {"missing path", "empty file"}
#: A damaged kinesio-tui file may still be copied (to keep it) or restored over.
ACTS = {("damaged kinesio file", "backup"), ("damaged kinesio file", "restore")}


def _commands(out: Path) -> dict[str, list[str]]:
    return {
        "patients list": ["patients", "list"],
        "patients show": ["patients", "show", "1"],
        "patients add": [
            "patients",
            "add",
            "--first",
            "Ona",
            "--last",
            "Naujienė",
            "--born",
            "1970-01-01",
            "--sex",
            "F",
        ],
        "episode open": [
            "episode",
            "open",
            "1",
            "--condition",
            "sciatica",
            "--subtype",
            "upper",
            "--side",
            "L",
        ],
        "episode close": ["episode", "close", "1"],
        "check": ["check"],
        "audit verify": ["audit", "verify"],
        "audit show": ["audit", "show", "1"],
        "export": ["export", "1", "--out", str(out)],
        "export --all": ["export", "--all", "--format", "md", "--out", str(out)],
        "erase": ["erase", "1", "--yes"],
        "backup": ["backup", str(out.parent / "copy.db")],
        "restore": ["restore", str(out.parent.parent / "backup.db"), "--yes"],
        "init": ["init"],
        "demo": ["demo", "--build-only"],
        "workstation": [],
    }


def _prepare(tmp_path: Path, kind: str, serial: int = 0) -> tuple[Path, Path]:
    """The odd file in a folder of its own, its export folder, and a good backup beside."""
    good = tmp_path / "backup.db"
    if not good.exists():
        backup_database(_kinesio_file(tmp_path / "good.db"), good)
    home = tmp_path / f"case-{serial}"
    home.mkdir()
    os.chmod(home, 0o755)
    return ODD[kind](home / "clinic.db"), home / "exports"


def _expect_refused(ran: Ran, kind: str, command: str) -> None:
    if kind == "damaged kinesio file" and command == "check":
        assert ran.code == 1, ran
        assert "damaged" in (ran.out + ran.err).lower(), ran
        assert "Traceback" not in ran.out + ran.err, ran
        assert "Something went wrong" not in ran.err, ran
        return
    assert_one_line_refusal(ran)


def _with_db(command: str, args: list[str], db: Path, *, before: bool) -> list[str]:
    """`kinesio --db X cmd ...` (the main option) or `kinesio cmd ... --db X`.

    The demo takes only its own --db: the main one names the clinic's file.
    """
    if command == "workstation" or (before and command != "demo"):
        return ["--db", str(db), *args]
    return [*args, "--db", str(db)]


@pytest.mark.parametrize("kind", sorted(ODD))
def test_every_command_refuses_an_odd_db_and_changes_nothing(tmp_path: Path, kind: str) -> None:
    db, out = _prepare(tmp_path, kind)
    for position, (command, args) in enumerate(_commands(out).items()):
        if (kind in TAKEN and command in CREATING) or (kind, command) in ACTS:
            continue
        before = files_state(tmp_path, folder_mtimes=kind not in OPENED)
        ran = run(*_with_db(command, args, db, before=position % 2 == 0))
        _expect_refused(ran, kind, command)
        assert_unchanged(before, tmp_path, ran, folder_mtimes=kind not in OPENED)


def test_read_only_commands_create_nothing_at_the_default_location(tmp_path: Path) -> None:
    """No --db, no KINESIO_DB: the user's data folder is not made for a command that reads."""
    out = tmp_path / "exports"
    for command, args in _commands(out).items():
        if command in CREATING:
            continue
        before = files_state(tmp_path)
        ran = run(*args)
        assert_one_line_refusal(ran)
        assert "There is no database at" in ran.err, ran
        assert_unchanged(before, tmp_path, ran)
    assert not (tmp_path / "xdg-data").exists()


def test_a_missing_database_gets_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "clinic.db"
    for args in (["patients", "show", "1"], ["check"], ["audit", "verify"], ["export", "1"]):
        ran = run(*args, "--db", str(db))
        assert_one_line_refusal(ran)
        assert ran.err_lines == [
            f"No database: There is no database at {db}. Create it with `kinesio init`."
        ], ran
    assert not (tmp_path / "a").exists()


def test_a_damaged_file_is_reported_by_check_and_refused_by_the_rest(tmp_path: Path) -> None:
    db = _damaged(tmp_path / "clinic.db")
    ran = run("check", "--db", str(db))
    assert ran.code == 1, ran
    assert "Integrity: DAMAGED" in ran.out, ran
    assert "Something went wrong" not in ran.err, ran
    listing = run("patients", "list", "--db", str(db))
    assert_one_line_refusal(listing)
    assert "is damaged" in listing.err and "kinesio check" in listing.err, listing


def test_an_empty_file_is_refused_by_readers_and_taken_by_init(tmp_path: Path) -> None:
    db = _empty(tmp_path / "clinic.db")
    ran = run("patients", "list", "--db", str(db))
    assert_one_line_refusal(ran)
    assert "is empty" in ran.err, ran
    assert db.stat().st_size == 0 and db.stat().st_mode & 0o777 == 0o644
    made = run("init", "--db", str(db))
    assert made.code == 0, made
    assert db.stat().st_size > 0 and db.stat().st_mode & 0o777 == 0o600


# --- fuzzing: any command, any option value, any odd file -------------------------------------

FUZZ = settings(
    max_examples=24,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    derandomize=True,
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["Rūta", "[bold]x[/]", "\x1b[31mred", "\u202eevil", "x" * 3000, "", "-", "--db", "\t"]
    ),
)
THERAPIST: st.SearchStrategy[str | bytes] = st.one_of(
    TEXT.filter(lambda t: "\x00" not in t),
    st.sampled_from([b"\xff\xfe", b"Ona \xc5"]),
)
EXPORT_OPTIONS = st.lists(
    st.sampled_from(
        [
            ["--kind", "summary"],
            ["--kind", "visit"],
            ["--kind", "module"],
            ["--format", "md"],
            ["--format", "html"],
            ["--visit", "3"],
            ["--module", "2"],
            ["--force"],
        ]
    ),
    max_size=4,
)
#: Odd files the fuzzer draws from (the device node needs root; it has its own test above).
FUZZ_KINDS = sorted(k for k in ODD if k != "device node")
examples = iter(range(10_000))


@FUZZ
@given(
    kind=st.sampled_from(FUZZ_KINDS),
    command=st.sampled_from(sorted(_commands(Path("out")))),
    therapist=st.one_of(st.none(), THERAPIST),
    export_options=EXPORT_OPTIONS,
    ref=st.one_of(st.sampled_from(["1", "Petrauskas", "99999999999999999999"]), TEXT),
    db_first=st.booleans(),
)
def test_fuzz_the_real_process_on_odd_files(
    tmp_path: Path,
    kind: str,
    command: str,
    therapist: str | bytes | None,
    export_options: list[list[str]],
    ref: str,
    db_first: bool,
) -> None:
    if (kind in TAKEN and command in CREATING) or (kind, command) in ACTS:
        kind = "text file"
    db, out = _prepare(tmp_path, kind, next(examples))
    args = _commands(out)[command]
    if command.startswith("export"):
        args = [*args, *(word for option in export_options for word in option)]
    if command in ("patients show", "audit show", "export", "episode close") and "\x00" not in ref:
        args = [*args[:-1], ref] if command != "export" else [args[0], ref, *args[2:]]
    line: list[str | bytes] = []
    if therapist is not None:
        line += ["--therapist", therapist]
    line += _with_db(command, args, db, before=db_first)
    before = files_state(tmp_path, folder_mtimes=kind not in OPENED)
    ran = run(*line)
    assert ran.code in (1, 2), ran
    assert "Traceback" not in ran.out + ran.err, ran
    assert "Something went wrong" not in ran.err, ran
    assert_unchanged(before, tmp_path, ran, folder_mtimes=kind not in OPENED)
