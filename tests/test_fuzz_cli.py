"""Fuzzing the `kinesio` command line: any argument text exits 0 or 2, never a traceback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.main import get_command

from kinesio_tui.cli import app
from kinesio_tui.data.db import connect
from kinesio_tui.domain.episodes import open_episode
from kinesio_tui.domain.models import NewEpisode, NewPatient
from kinesio_tui.domain.patients import create_patient

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    derandomize=True,
)
ARG = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "-",
            "--",
            "--db",
            "1",
            "0",
            "-1",
            "99999999999999999999999",
            "1e9",
            "Žemaitė",
            "ž",
            "%",
            "_",
            "\\",
            "'",
            '"',
            "x" * 5000,
            "2026-02-30",
            "9999-12-31",
            "\x00",
            "\t\n",
        ]
    ),
)
#: What Python makes of argv bytes that are not UTF-8 (surrogateescape), e.g. b"\xff".
UNDECODABLE = st.sampled_from(["\udcff", "Ona\udcc5"])
runner = CliRunner()
#: Built once: Typer rebuilds the click command on every invoke (~40 ms each).
#: (typed Any: Typer builds it on its own vendored copy of click, which click's runner
#: drives all the same; it only calls .main())
COMMAND: Any = get_command(app)
#: A therapist's name as typed or set in KINESIO_THERAPIST, controls and all.
THERAPIST = st.one_of(ARG, st.sampled_from(["Rūta", "[b]Dr[/b]", "\x1b[2J", "Ona \u202eWho"]))
#: Exit codes each fuzzed command gave in the current test.
outcomes: dict[str, Counter[int]] = {}
#: The exit codes each command's fuzzed arguments must have reached at least once: a run
#: that only ever refuses (or only accepts) tested one path of the two it claims.
EXPECTED = {
    "patients list": {0},
    "patients list --limit": {0, 2},
    "patients show": {0, 2},
    "audit show": {0, 2},
    "--therapist": {0, 2},
    "patients add": {2},
    "episode open": {2},
    "audit show (undecodable)": {2},
    "erase (undecodable)": {2},
    "erase": {2},
    "backup": {0, 2},
    "restore": {2},
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fuzzed text can become a path (`--db --db x` makes '--db' the file): keep it here."""
    monkeypatch.chdir(tmp_path)


# Any argument on both engines (issue 17): a NUL or a number past bigint reaches
# PostgreSQL's driver and server, not only SQLite's. The PostgreSQL run tries a quarter of the
# examples. Backup and restore fuzz the SQLite file (PostgreSQL's: test_backup_pg).
pytestmark = [
    pytest.mark.engines("sqlite", "postgresql"),
    pytest.mark.usefixtures("quarter_of_the_examples_on_postgresql"),
]


@pytest.fixture
def clinic_file(db_target: str) -> Iterator[str]:
    """Three patients, one with an episode: a file, or a PostgreSQL database as the app."""
    db = connect(db_target)
    for name in ("Žemaitė", "Zemaite", "Petrauskas"):
        pid = create_patient(db, NewPatient("Ona", name, "1970-01-01", "F"), today=DAY)
    open_episode(db, pid, NewEpisode("sciatica", "upper", "L"), start=DAY, today=DAY)
    if db.kind == "sqlite":
        db.execute("PRAGMA synchronous = NORMAL")
    db.close()
    yield db_target


@pytest.fixture(autouse=True)
def _both_outcomes_reached() -> Iterator[None]:
    """Each fuzzed command reached the exit codes EXPECTED says its arguments can give."""
    outcomes.clear()
    yield
    for name, codes in outcomes.items():
        missing = EXPECTED[name] - set(codes)
        assert not missing, f"{name}: no fuzzed argument gave exit code {missing} ({dict(codes)})"


def _run(name: str, args: list[str]) -> None:
    result = runner.invoke(COMMAND, args)
    outcomes.setdefault(name, Counter())[result.exit_code] += 1
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert "Traceback" not in result.output


@FUZZ
@given(
    query=ARG,
    ref=st.one_of(st.sampled_from(["1", "2", "Petrauskas"]), ARG),  # found, as well as refused
    limit=st.one_of(st.sampled_from(["1", "10000"]), ARG),
    therapist=THERAPIST,
)
def test_fuzz_patient_lookups(
    clinic_file: str, query: str, ref: str, limit: str, therapist: str
) -> None:
    db = ["--db", clinic_file]
    _run("patients list", ["patients", "list", query, *db])
    _run("patients list --limit", ["patients", "list", "--limit", limit, *db])
    _run("patients show", ["patients", "show", ref, *db])
    _run("audit show", ["audit", "show", ref, *db])
    _run("--therapist", ["--therapist", therapist, "patients", "show", "1", *db])


@FUZZ
@given(ref=UNDECODABLE)
def test_fuzz_undecodable_arguments(clinic_file: str, ref: str) -> None:
    _run("audit show (undecodable)", ["audit", "show", ref, "--db", clinic_file])
    _run("erase (undecodable)", ["erase", ref, "--yes", "--db", clinic_file])


@FUZZ
@given(first=ARG, last=ARG, born=ARG, sex=ARG, phone=ARG)
def test_fuzz_patients_add(
    clinic_file: str, first: str, last: str, born: str, sex: str, phone: str
) -> None:
    args = ["patients", "add", "--first", first, "--last", last, "--born", born, "--sex", sex]
    _run("patients add", [*args, "--phone", phone, "--db", clinic_file])


@FUZZ
@given(
    ref=st.one_of(st.sampled_from(["1", "2", "Petrauskas"]), ARG),
    condition=st.one_of(st.sampled_from(["sciatica", "radiculitis"]), ARG),
    subtype=st.one_of(st.sampled_from(["upper", "lumbar"]), ARG),
    side=st.one_of(st.sampled_from(["L", "R", "both"]), ARG),
    onset=ARG,
    start=ARG,
    flag=ARG,
)
def test_fuzz_episode_open(
    clinic_file: str,
    ref: str,
    condition: str,
    subtype: str,
    side: str,
    onset: str,
    start: str,
    flag: str,
) -> None:
    args = ["episode", "open", ref, "--condition", condition, "--subtype", subtype]
    args += ["--side", side, "--onset", onset, "--start", start, "--red-flag", flag]
    _run("episode open", [*args, "--db", clinic_file])


@pytest.mark.sqlite_only  # a backup to a fuzzed path and its restore are the file's
@settings(FUZZ, max_examples=15)  # each backup and restore fsyncs a whole file
@given(ref=ARG, dest=ARG)
def test_fuzz_erase_and_backup(clinic_file: str, ref: str, dest: str) -> None:
    _run("erase", ["erase", ref, "--yes", "--db", clinic_file])
    _run("backup", ["backup", dest, "--db", clinic_file])
    _run("restore", ["restore", dest, "--yes", "--db", clinic_file])


# Found by fuzzing (the episode's patient given as "²"): str.isdigit() is true for
# superscripts, which int() refuses, so the command ended on a ValueError (exit 1) instead of
# looking the text up as a name.
def test_a_digit_that_is_not_a_decimal_is_looked_up_as_a_name(clinic_file: str) -> None:
    for command in (["patients", "show"], ["audit", "show"]):
        for ref in ("²", "1²", "³"):
            result = runner.invoke(COMMAND, [*command, ref, "--db", clinic_file])
            assert result.exit_code == 2, (command, ref, result.output, result.exception)
            assert "No patient matches" in result.output
