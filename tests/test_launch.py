"""The `kinesio` front door: plain `kinesio [--db] [--therapist]` opens the workstation
without loading Typer; every other command line reaches the full CLI unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinesio_tui.launch import workstation_options

KINESIO = Path(sys.executable).parent / "kinesio"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {}),
        (["--db", "c.db"], {"--db": "c.db"}),
        (["--db=c.db", "--therapist", "Rūta"], {"--db": "c.db", "--therapist": "Rūta"}),
        (["--db", "a.db", "--db", "b.db"], {"--db": "b.db"}),  # the last one wins, as in click
    ],
)
def test_workstation_command_lines(
    args: list[str], expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KINESIO_DB", raising=False)
    monkeypatch.delenv("KINESIO_THERAPIST", raising=False)
    assert workstation_options(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["patients", "list"],
        ["--help"],
        ["--db"],  # a missing value: the full CLI says so
        ["--db", ""],
        ["--db", "--therapist"],
        ["--db", "c.db", "check"],
        ["--dbx", "c.db"],
        ["-h"],
    ],
)
def test_everything_else_goes_to_the_full_cli(args: list[str]) -> None:
    assert workstation_options(args) is None


def test_the_environment_fills_what_the_line_leaves_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINESIO_DB", "env.db")
    monkeypatch.setenv("KINESIO_THERAPIST", "")  # empty counts as unset, as in click
    assert workstation_options([]) == {"--db": "env.db"}
    assert workstation_options(["--db", "line.db"]) == {"--db": "line.db"}


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINESIO")}
    return subprocess.run(
        [str(KINESIO), *args],
        capture_output=True,
        text=True,
        env=env | {"PYTHONPROFILEIMPORTTIME": "1"},  # -X importtime: every module loaded
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


def test_a_refused_file_is_one_line_and_exit_2_without_typer(
    newer_db_path: Path, tmp_path: Path
) -> None:
    """The fast path opens the file before any UI, refuses it like the CLI, loads no Typer."""
    newer = newer_db_path
    before = newer.read_bytes()
    proc = _run("--db", str(newer), tmp_path=tmp_path)
    assert proc.returncode == 2
    messages = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert messages == [messages[0]] and "newer kinesio-tui" in messages[0], proc.stderr
    assert "Traceback" not in proc.stderr
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "kinesio_tui.data.db" in loaded  # the import log is there: the check below means it
    assert not {"typer", "click", "sqlite_utils"} & loaded
    assert newer.read_bytes() == before


def test_a_command_still_goes_through_the_full_cli(tmp_path: Path) -> None:
    proc = _run("init", "--db", str(tmp_path / "c.db"), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Database ready: {tmp_path / 'c.db'} (schema ")
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "typer" in loaded
    usage = _run("--db", tmp_path=tmp_path)  # a missing value: Typer's usage error
    assert usage.returncode == 2 and "--db" in usage.stderr


def test_the_patient_list_loads_only_the_domain_it_shows() -> None:
    """The package imports nothing: the list's modules do not pull the whole domain."""
    code = (
        "import sys, kinesio_tui.domain.roster as r; "
        "print(sorted(m for m in sys.modules if m.startswith('kinesio_tui.domain')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = proc.stdout
    assert "kinesio_tui.domain.roster" in loaded
    for heavy in ("outcomes", "episodes", "visits", "models", "store"):
        assert f"kinesio_tui.domain.{heavy}'" not in loaded, loaded


WARM_UP_SCRIPT = """
import asyncio, sys
from pathlib import Path
from kinesio_tui.app import build_app

async def main() -> None:
    app = build_app(Path(sys.argv[1]))
    async with app.run_test(size=(80, 24)) as pilot:
        before = "kinesio_tui.views.patient" in sys.modules
        await pilot.pause()
        await app.workers.wait_for_complete()
        after = "kinesio_tui.views.patient" in sys.modules
        print(before, after)

asyncio.run(main())
"""


def test_the_rest_of_the_workstation_loads_after_the_list_is_drawn(tmp_path: Path) -> None:
    """The list starts without the patient screen's code; it is loaded behind the first frame."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", WARM_UP_SCRIPT, str(tmp_path / "c.db")],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
