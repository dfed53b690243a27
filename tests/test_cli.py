"""The `kinesio` command through Typer's CliRunner, and once as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinesio_tui.cli import app

runner = CliRunner()

# The commands that read and write a clinic run on both engines (issue 17); those about
# the file itself (init, its mode, demo --build-only) take a path and stay on SQLite.
pytestmark = pytest.mark.engines("sqlite", "postgresql")


def kinesio(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def assert_refused(code: int, out: str, err: str, *words: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback anywhere."""
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err


def test_init_creates_the_database(db_path: Path) -> None:
    code, out, _ = kinesio("init", "--db", str(db_path))
    assert code == 0
    assert out.startswith(f"Database ready: {db_path} (schema ")
    assert db_path.exists() and (db_path.stat().st_mode & 0o777) == 0o600


def test_patients_add_list_show_and_episode_open(db_path: Path) -> None:
    db = ["--db", str(db_path)]
    assert kinesio("init", *db)[0] == 0
    code, out, _ = kinesio(
        "patients", "add", "--first", "Rūta", "--last", "Žemaitė", "--born", "1988-05-02",
        "--sex", "f", "--phone", "+370 655 18230", "--occupation", "Office worker", *db,
    )  # fmt: skip
    assert (code, out) == (0, "Patient 1 added.\n")
    code, out, _ = kinesio("patients", "list", *db)
    assert code == 0 and "Žemaitė, Rūta" in out and "no episode" in out
    code, out, _ = kinesio(
        "episode", "open", "zemaite", "--condition", "sciatica", "--subtype", "upper",
        "--side", "L", "--start", "2026-11-25", *db,
    )  # fmt: skip
    assert (code, out) == (0, "Episode 1 opened: 45 visits planned.\n")
    code, out, _ = kinesio("patients", "list", "ruta", *db)
    assert (
        code == 0
        and "Sciatica, Upper (gluteal, piriformis), left" in out
        and "1/15" in out
        and "2026-11-25" in out
    )
    code, out, _ = kinesio("patients", "show", "1", *db)
    assert code == 0
    assert "Rūta Žemaitė (id 1), born 1988-05-02" in out
    assert "Phone: +370 655 18230" in out and "Occupation: Office worker" in out
    assert "Episode 1: Sciatica, Upper (gluteal, piriformis), left; acute, active" in out
    assert "Module 1, visit 1/15 (overall 1/45); next: doctor's appointment on 2026-11-25" in out
    code, out, _ = kinesio("patients", "list", "nobody", *db)
    assert code == 0 and "No patients match." in out


def test_an_empty_list_says_how_to_add(db_path: Path) -> None:
    kinesio("init", "--db", str(db_path))
    code, out, _ = kinesio("patients", "list", "--db", str(db_path))
    assert code == 0 and "kinesio patients add" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--born", "2999-01-01"], ["birth date", "cannot be in the future"]),
        (["--born", "01/02/1980"], ["birth date", "YYYY-MM-DD"]),
        (["--sex", "W"], ["sex", "F, M, X"]),
        (["--first", " "], ["first name", "is required"]),
        (["--phone", "call me"], ["phone"]),
    ],
)
def test_bad_patient_input_exits_2_with_one_line(
    db_path: Path, args: list[str], words: list[str]
) -> None:
    base = {"--first": "Ona", "--last": "Butkienė", "--born": "1970-01-01", "--sex": "F"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for pair in base.items() for x in pair]
    kinesio("init", "--db", str(db_path))
    code, out, err = kinesio("patients", "add", *flat, "--db", str(db_path))
    assert_refused(code, out, err, "Invalid input", *words)
    code, out, _ = kinesio("patients", "list", "--db", str(db_path))
    assert "Butkienė" not in out  # nothing was written


def test_bad_episode_input_exits_2(demo_target: str) -> None:
    db = ["--db", demo_target]
    code, out, err = kinesio(
        "episode", "open", "Mockutė", "--condition", "scoliosis", "--subtype", "x",
        "--side", "L", *db,
    )  # fmt: skip
    assert_refused(code, out, err, "condition", "radiculitis, sciatica")
    code, out, err = kinesio(
        "episode", "open", "Mockutė", "--condition", "sciatica", "--subtype", "upper",
        "--side", "L", "--start", "soon", *db,
    )  # fmt: skip
    assert_refused(code, out, err, "start", "YYYY-MM-DD")
    code, out, err = kinesio(
        "episode", "open", "Petrauskas", "--condition", "sciatica", "--subtype", "upper",
        "--side", "L", *db,
    )  # fmt: skip
    assert_refused(code, out, err, "Close the current episode")


def test_unknown_or_ambiguous_patient_exits_2(demo_target: str) -> None:
    db = ["--db", demo_target]
    assert_refused(*kinesio("patients", "show", "Nobody", *db), "No patient matches")
    assert_refused(*kinesio("patients", "show", "9999", *db), "No patient with id 9999")
    for first in ("Jonas", "Jurgis"):
        kinesio(
            "patients", "add", "--first", first, "--last", "Dvynys", "--born", "1970-01-01",
            "--sex", "M", *db,
        )  # fmt: skip
    code, out, err = kinesio("patients", "show", "dvynys", *db)
    assert_refused(code, out, err, "More than one patient", "use the id")
    assert kinesio("patients", "show", "dvynys jurg", *db)[0] == 0


def test_show_a_published_case(demo_target: str) -> None:
    code, out, _ = kinesio("patients", "show", "Petrauskas", "--db", demo_target)
    assert code == 0
    assert "Tomas Petrauskas" in out and "Radiculitis (radiculopathy), Lumbar, right" in out
    assert "Module 3" in out and "VAS 8 -> 0: -8 (-100%) clinically important" in out


def test_files_we_must_not_touch_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    assert_refused(*kinesio("patients", "list", "--db", str(text)), "not an SQLite database")
    assert_refused(*kinesio("init", "--db", str(text)), "not an SQLite database")


def test_db_option_and_environment_variable(tmp_path: Path) -> None:
    env_db, opt_db = tmp_path / "env.db", tmp_path / "opt.db"
    env = {"KINESIO_DB": str(env_db)}
    code, out, _ = kinesio("init", env=env)
    assert code == 0 and str(env_db) in out
    code, out, _ = kinesio("init", "--db", str(opt_db), env=env)
    assert code == 0 and str(opt_db) in out  # the option wins over the environment
    code, out, _ = kinesio("--db", str(opt_db), "init", env=env)
    assert code == 0 and str(opt_db) in out  # also before the command
    kinesio(
        "patients", "add", "--first", "Ona", "--last", "Envaitė", "--born", "1970-01-01",
        "--sex", "F", env=env,
    )  # fmt: skip
    assert "Envaitė" in kinesio("patients", "list", "--db", str(env_db))[1]
    assert "Envaitė" not in kinesio("patients", "list", "--db", str(opt_db))[1]


def test_default_location_is_the_user_data_dir(tmp_path: Path) -> None:
    code, out, _ = kinesio("init")
    expected = tmp_path / "xdg-data" / "kinesio-tui" / "kinesio.db"
    assert code == 0 and str(expected) in out and expected.exists()


def test_demo_build_only_replaces_an_earlier_demo(demo_db_path: Path) -> None:
    kinesio(
        "patients", "add", "--first", "Ona", "--last", "Bandomoji", "--born", "1970-01-01",
        "--sex", "F", "--db", str(demo_db_path),
    )  # fmt: skip
    code, out, _ = kinesio("demo", "--build-only", "--db", str(demo_db_path))
    assert (code, out) == (0, f"Demo database written: {demo_db_path}\n")
    listing = kinesio("patients", "list", "--db", str(demo_db_path))[1]
    assert "Petrauskas, Tomas" in listing and "Bandomoji" not in listing


def test_demo_never_replaces_the_clinics_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = tmp_path / "clinic.db"
    kinesio("init", "--db", str(clinic))
    kinesio(
        "patients", "add", "--first", "Ona", "--last", "Tikraitė", "--born", "1970-01-01",
        "--sex", "F", "--db", str(clinic),
    )  # fmt: skip
    before = clinic.read_bytes()
    code, out, err = kinesio("demo", "--build-only", "--db", str(clinic))
    assert_refused(code, out, err, "Not a demo database")
    assert clinic.read_bytes() == before
    # KINESIO_DB names the clinic's file: the demo goes to its own file instead
    # (where it would build is all this needs; building is tested above)
    import kinesio_tui.demo

    targets: list[Path] = []
    monkeypatch.setattr(kinesio_tui.demo, "build_demo", lambda path: targets.append(path))
    code, out, _ = kinesio("demo", "--build-only", env={"KINESIO_DB": str(clinic)})
    assert code == 0
    assert targets == [tmp_path / "xdg-data" / "kinesio-tui" / "demo.db"]
    assert clinic.read_bytes() == before


def test_help_everywhere() -> None:
    for args in ([], ["patients"], ["patients", "add"], ["episode", "open"], ["demo"], ["init"]):
        code, out, _ = kinesio(*args, "--help")
        assert code == 0 and "--help" in out
    assert "--db" in kinesio("patients", "list", "--help")[1]


def test_kinesio_help_as_a_real_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "kinesio"
    env = {**os.environ, "KINESIO_DB": str(tmp_path / "x.db"), "COLUMNS": "100"}
    proc = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    for word in ("init", "demo", "patients", "episode", "--db"):
        assert word in proc.stdout
    assert not (tmp_path / "x.db").exists()  # help opens no database


def test_list_and_show_tell_what_matters_at_a_glance(demo_target: str) -> None:
    db = ["--db", demo_target]
    listing = kinesio("patients", "list", *db, env={"COLUMNS": "150"})[1]
    flagged = [line for line in listing.splitlines() if "RED FLAG" in line]
    assert len(flagged) == 1
    assert "completed" in next(line for line in listing.splitlines() if "Šimkus" in line)
    shown = kinesio("patients", "show", "Žemaitė", *db)[1]
    assert "next: therapy session in progress since" in shown


def test_episode_close(db_path: Path) -> None:
    db = ["--db", str(db_path)]
    kinesio("init", *db)
    kinesio(
        "patients", "add", "--first", "Ona", "--last", "Butkienė", "--born", "1970-01-01",
        "--sex", "F", *db,
    )  # fmt: skip
    kinesio("episode", "open", "1", "--condition", "sciatica", "--subtype", "upper", "--side", "L", *db)  # fmt: skip
    assert kinesio("episode", "close", "Butkienė", *db)[:2] == (0, "Episode 1 closed.\n")
    assert (
        "Sciatica, Upper (gluteal, piriformis), left; acute, closed"
        in kinesio("patients", "show", "1", *db)[1]
    )
    assert_refused(*kinesio("episode", "close", "1", *db), "No active episode")
    kinesio("episode", "open", "1", "--condition", "sciatica", "--subtype", "upper", "--side", "L", *db)  # fmt: skip
    assert kinesio("episode", "close", "1", "--completed", *db)[1] == "Episode 2 completed.\n"


def test_a_newer_database_is_refused_untouched(newer_db_path: Path) -> None:
    before = newer_db_path.read_bytes()
    code, out, err = kinesio("patients", "list", "--db", str(newer_db_path))
    assert_refused(code, out, err, "newer kinesio-tui", "not changed")
    assert newer_db_path.read_bytes() == before


def test_the_workstation_refuses_a_newer_database_before_any_ui(newer_db_path: Path) -> None:
    before = newer_db_path.read_bytes()
    code, out, err = kinesio("--db", str(newer_db_path))  # no command: the TUI
    assert_refused(code, out, err, "newer kinesio-tui", "not changed")
    assert newer_db_path.read_bytes() == before


def test_usage_errors_exit_2_without_a_traceback(db_path: Path) -> None:
    result = runner.invoke(app, ["patients", "add", "--first", "Ona", "--db", str(db_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "--last" in result.output


def test_the_therapist_signs_the_audit_trail(db_path: Path) -> None:
    import sqlite3

    kinesio("init", "--db", str(db_path))
    kinesio(
        "--therapist", "R. Paupienė", "patients", "add", "--first", "Ona", "--last", "Butkienė",
        "--born", "1970-01-01", "--sex", "F", "--db", str(db_path),
    )  # fmt: skip
    kinesio(
        "patients", "add", "--first", "Eglė", "--last", "Urbonienė", "--born", "1970-01-01",
        "--sex", "F", "--db", str(db_path), env={"KINESIO_THERAPIST": "T. Kazlauskas"},
    )  # fmt: skip
    with sqlite3.connect(db_path) as raw:
        actors = [r[0] for r in raw.execute("SELECT actor FROM audit_log ORDER BY id")]
    raw.close()
    assert actors == ["R. Paupienė", "T. Kazlauskas"]


def test_show_says_the_protocols_words_not_its_codes(demo_target: str) -> None:
    db = ["--db", demo_target]
    flagged = kinesio("patients", "show", "Jankauskienė", *db)[1]
    assert "Progressive leg weakness or foot drop" in flagged, flagged
    assert "progressive_weakness" not in flagged
    case = kinesio("patients", "show", "Petrauskas", *db)[1]
    assert "Radiculitis (radiculopathy), Lumbar, right" in case, case
    assert "radiculitis lumbar" not in case
