"""How the tests are written: one clinic day, one fake clock, no real day read at import,
the slow ones marked so a quick run can leave them out while `make test` runs them all."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from conftest import DAY

ROOT = Path(__file__).resolve().parents[1]
TEST_MODULES = sorted((ROOT / "tests").glob("*.py"))
SCRIPTS = TEST_MODULES + sorted((ROOT / "benchmarks").glob("*.py"))


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def run_at_import(module: ast.Module) -> Iterator[ast.AST]:
    """Every node that runs when the module is imported: not inside a function's body."""
    pending: list[ast.AST] = list(module.body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending += [*node.decorator_list] if not isinstance(node, ast.Lambda) else []
            continue
        pending += ast.iter_child_nodes(node)


def reads_the_real_day(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr)
        in {("date", "today"), ("datetime", "now"), ("datetime", "today"), ("time", "time")}
    )


def test_no_test_reads_the_real_day_at_import() -> None:
    """A module read before midnight and run after it would test yesterday."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"  # type: ignore[attr-defined]
        for path in SCRIPTS
        for node in run_at_import(tree(path))
        if reads_the_real_day(node)
    ]
    assert found == []


def test_the_clinic_day_is_said_once_in_conftest() -> None:
    found = [
        f"{path.name}:{node.lineno}"
        for path in TEST_MODULES
        if path.name != "conftest.py"
        for node in tree(path).body
        if isinstance(node, ast.Assign)
        and ast.unparse(node.value) == repr(DAY).removeprefix("datetime.")
    ]
    assert found == []


def test_the_fake_clock_is_written_once_in_conftest() -> None:
    found = [
        f"{path.name}:{node.lineno}"
        for path in TEST_MODULES
        if path.name != "conftest.py"
        for node in ast.walk(tree(path))
        if isinstance(node, ast.ClassDef) and "clock" in node.name.lower()
    ]
    assert found == []


#: The real-process tests that take long (several seconds each, a minute on a busy machine):
#: `-m "not slow"` leaves them out of a quick local run; `make test` runs them.
SLOW = [
    "tests/test_refused_db_files.py",
    "tests/test_tui_keys_pty.py",
    "tests/test_reliability_kill.py",
    "tests/test_restore_while_writing.py",
    "tests/test_first_run.py::test_an_editable_install_says_nothing_a_newcomer_cannot_act_on",
    "tests/test_installed_package.py::test_an_export_from_a_regular_install",
    "tests/test_full_disk_and_leftovers.py::test_a_full_disk_leaves_no_export_and_the_retry_writes_it",
    "tests/test_full_disk_and_leftovers.py::test_a_read_only_mount_gets_one_line_and_no_crash_report",
]


def test_the_slow_real_process_tests_are_marked_slow() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-m", "not slow", *SLOW],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 5, ran.stdout + ran.stderr  # 5: every test deselected


def test_make_test_still_runs_the_slow_tests() -> None:
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntest:")[1].split("\n\n")[0]
    runs = [line.split("pytest", 1)[1].split() for line in recipe.splitlines() if "pytest" in line]
    assert runs and not any("-m" in options for options in runs), recipe  # no marker chosen
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "-m" not in config["tool"]["pytest"]["ini_options"]["addopts"].split()
