"""The CLI's shape: the fast path knows Typer's options, the package keeps no state, every
message can be translated, and the CLI never imports the launcher that imports it."""

from __future__ import annotations

import ast
import pkgutil
import types
from collections.abc import Iterator
from enum import EnumType
from pathlib import Path

import typer
from typer.core import TyperArgument, TyperOption
from typer.testing import CliRunner

import kinesio_tui
import kinesio_tui.cli
from kinesio_tui.cli import app
from kinesio_tui.launch import WORKSTATION_OPTIONS, workstation_options

PACKAGE = Path(kinesio_tui.__file__).parent
CLI_FILES = sorted((PACKAGE / "cli").glob("*.py")) or [
    PACKAGE / name for name in ("cli.py", "cli_export.py", "cli_maintenance.py")
]


def test_the_fast_path_takes_exactly_the_options_typer_declares_for_the_bare_command() -> None:
    command = typer.main.get_command(app)
    declared = {
        name: param.envvar
        for param in command.params
        if isinstance(param, TyperOption) and "--help" not in param.opts
        for name in param.opts + param.secondary_opts
    }
    assert declared == WORKSTATION_OPTIONS
    for param in command.params:
        if "--help" in param.opts:
            continue
        # the fast path reads every option as one value: a flag or a list would need more
        assert isinstance(param, TyperOption) and not param.is_flag and not param.multiple
        assert param.nargs == 1 and not param.required
    assert not [p for p in command.params if isinstance(p, TyperArgument)]


def test_each_declared_option_reaches_the_fast_path(tmp_path: Path) -> None:
    for name in WORKSTATION_OPTIONS:
        assert workstation_options([name, "value"]) is not None
        assert workstation_options([f"{name}=value"]) is not None


def _cli_modules() -> Iterator[types.ModuleType]:
    yield kinesio_tui.cli
    for info in pkgutil.walk_packages(kinesio_tui.cli.__path__, "kinesio_tui.cli."):
        yield __import__(info.name, fromlist=["_"])


def test_the_cli_keeps_no_state_in_its_modules() -> None:
    """What one command line chose (--db, --therapist) lives in its Typer context only."""
    allowed = (
        types.ModuleType, types.FunctionType, type, EnumType, typer.Typer, str, int, float,
        bool, tuple, frozenset, type(None),
    )  # fmt: skip
    for module in _cli_modules():
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, allowed):
                continue
            if type(value).__module__ in ("typing", "typing_extensions", "types", "__future__"):
                continue  # Annotated aliases, TypeVars, `annotations`: types, not state
            raise AssertionError(f"{module.__name__}.{name} is module state: {value!r}")


def test_two_invocations_in_one_process_share_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    assert runner.invoke(app, ["--db", str(first), "init"]).exit_code == 0
    result = runner.invoke(app, ["init"], env={"KINESIO_DB": str(second)})
    assert result.exit_code == 0 and str(second) in result.stdout


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_the_cli_and_the_crash_report_never_import_the_launcher() -> None:
    """launch.py hands the command line to the CLI; the CLI never reaches back (no circle)."""
    for path in [*CLI_FILES, PACKAGE / "crash.py"]:
        assert "kinesio_tui.launch" not in set(_imports(path)), path


#: Calls whose text reaches the person at the terminal.
MESSAGE_CALLS = {"echo", "secho", "confirm", "prompt", "KinesioError", "say", "Table", "fail"}
#: Keywords that are text for the person (help screens, prompts).
MESSAGE_KEYWORDS = {"help", "prompt", "short_help", "epilog"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _bare_text(node: ast.AST) -> Iterator[ast.AST]:
    """String literals and f-strings under `node` that are not inside a `_()` call."""
    if isinstance(node, ast.Call) and _name(node.func) == "_":
        return
    if isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip()
    ):
        yield node
        return
    for child in ast.iter_child_nodes(node):
        yield from _bare_text(child)


def test_every_cli_message_goes_through_the_translation_function() -> None:
    bare: list[str] = []
    for path in CLI_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            texts: list[ast.AST] = []
            if _name(node.func) in MESSAGE_CALLS:
                texts += node.args
            texts += [k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS]
            for text in texts:
                bare += [f"{path.name}:{n.lineno}" for n in _bare_text(text)]  # type: ignore[attr-defined]
    assert bare == []
