"""A command line the CLI cannot parse gets one line and exit 2, like every other refusal.

Run as the real `kinesio` process: what a person sees in the terminal is the point.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_cli import assert_one_line_refusal, run
from typer.testing import CliRunner

from kinesio_tui.cli import app


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["patients", "add", "--first", "Ona"], ["Missing option '--last'", "patients add --help"]),
        (["nosuch"], ["No such command 'nosuch'", "kinesio --help"]),
        (["--db"], ["Option '--db' requires an argument", "kinesio --help"]),
        (["export", "1", "--kind", "x"], ["--kind", "'x' is not one of", "export --help"]),
        (["patients", "list", "--dbx"], ["No such option: --dbx", "patients list --help"]),
        (["erase", "one"], ["Invalid value for 'patient'", "erase --help"]),
        (["patients", "list", "--limit", "0"], ["--limit", "patients list --help"]),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    args: list[str], words: list[str], tmp_path: Path
) -> None:
    ran = run(*args, "--db", str(tmp_path / "c.db")) if args[0] != "--db" else run(*args)
    assert_one_line_refusal(ran)
    line = ran.err_lines[0]
    assert line.startswith("Invalid command line: "), ran
    for word in words:
        assert word in line, ran
    assert ran.out == ""
    assert not (tmp_path / "c.db").exists()  # refused before anything was opened


def test_typed_text_in_a_usage_error_is_shown_as_text(tmp_path: Path) -> None:
    ran = run("patients", "\x1b]0;owned\x07\nsecond line", cwd=tmp_path)
    assert_one_line_refusal(ran)
    assert "\x1b" not in ran.err and "\x07" not in ran.err, ran


def test_help_for_a_group_without_a_command_is_still_help() -> None:
    """`kinesio patients` alone lists its commands (click exits 2 for it), not an error line."""
    ran = run("patients")
    assert ran.code == 2, ran
    for command in ("list", "add", "show"):
        assert command in ran.out + ran.err, ran
    assert "Invalid command line" not in ran.err


def test_the_in_process_cli_says_the_same_line() -> None:
    result = CliRunner().invoke(app, ["episode", "open", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Invalid command line: Missing option '--condition'. See `kinesio episode open --help`."
    ]
