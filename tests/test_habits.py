"""How the tests are written: one clinic day, one fake clock, no real day read at import."""

from __future__ import annotations

import ast
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
