"""A command line imports what its command needs: its own module, not every command's, and
no pydantic for the plain text, flags and paths every command reads.

Checked from `sys.modules` in a fresh interpreter (as tests/test_import_hygiene.py does),
against the real demo clinic; and the plain coercion against Typer's own, value by value.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer._coercion import build_runtime_param
from typer.core import _TyperParameter
from typer.testing import CliRunner

import kinesio_tui.cli
from kinesio_tui.cli import app
from kinesio_tui.cli.command import KinesioCommands
from kinesio_tui.cli.plain_params import PlainFlag, PlainPath, PlainText

PROBE = """
import json, sys
from kinesio_tui.cli import app
try:
    app({args!r}, prog_name="kinesio")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print("MODULES=" + json.dumps(sorted(sys.modules)))
"""


def loaded(args: list[str], tmp_path: Path) -> set[str]:
    env = {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kinesio_tui.demo import build_demo

    return Path(build_demo(tmp_path_factory.mktemp("demo") / "demo.db"))


def test_patients_show_imports_its_own_command_only_and_no_pydantic(
    clinic: Path, tmp_path: Path
) -> None:
    modules = loaded(["--db", str(clinic), "patients", "show", "1"], tmp_path)
    assert "kinesio_tui.domain.outcomes" in modules  # it really showed the patient
    cli_modules = {m for m in modules if m.startswith("kinesio_tui.cli.")}
    assert cli_modules <= {
        "kinesio_tui.cli.command",
        "kinesio_tui.cli.lazy",
        "kinesio_tui.cli.plain_params",
        "kinesio_tui.cli.refusal",
        "kinesio_tui.cli.options",
        "kinesio_tui.cli.database",
        "kinesio_tui.cli.patients",
    }, cli_modules
    for heavy in ("pydantic", "jinja2", "textual", "kinesio_tui.export", "rich.table"):
        assert heavy not in modules, heavy


def test_help_lists_every_command_of_every_cli_module() -> None:
    """Each Typer app of the package is mounted, and each mounted name is its command."""
    apps: set[tuple[str, str]] = set()
    for info in pkgutil.iter_modules(kinesio_tui.cli.__path__, "kinesio_tui.cli."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, typer.Typer) and value is not app:
                apps.add((info.name, name))
    mounted = {(entry.module, entry.app) for entry in KinesioCommands.MOUNTED}
    assert mounted == apps
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    listed = [m[1] for m in re.finditer(r"^│ (\S+) ", result.stdout, re.MULTILINE)]
    names = [entry.name for entry in KinesioCommands.MOUNTED]
    assert [n for n in listed if n in names] == names
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    for entry in KinesioCommands.MOUNTED:
        command = root.get_command(ctx, entry.name)  # type: ignore[attr-defined]
        assert command is not None and command.name == entry.name
        assert command.help or command.short_help, entry.name


def _param(annotation: Any, *, argument: bool = False) -> tuple[_TyperParameter, Any]:
    """One real parameter of that type, built by Typer from a one-command app."""
    one = typer.Typer()

    def given(value: Any = ... if argument else None) -> None:
        """One parameter."""

    given.__annotations__ = {"value": annotation, "return": None}  # the type under test
    one.command()(given)
    command = typer.main.get_command(one)
    param = next(p for p in command.params if p.name == "value")
    assert isinstance(param, _TyperParameter)
    return param, typer.Context(command)


def _outcome(coercion: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        value = coercion.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as error:  # Typer's refusal, in its own words
        return "refused", error.format_message()
    except ValueError as error:  # a NUL in a path (argv and the environment cannot hold one)
        return "raised", repr(error)
    return "read", (type(value), value)


@pytest.mark.parametrize(
    ("plain", "annotation", "values"),
    [
        (PlainText, str, ["", "Ona", " a ", "\udcff", "a\x00b", "-", "[b]x[/b]"]),
        (PlainFlag, bool, [True, False]),
        (PlainPath, Path, ["", "-", "~/x", "/nonexistent/clinic.db", "a\x00b", "\udcff"]),
    ],
)
def test_the_plain_coercion_reads_each_value_as_typers_own(
    plain: type, annotation: Any, values: list[Any], tmp_path: Path
) -> None:
    existing = tmp_path / "clinic.db"
    existing.write_text("")
    folder = tmp_path / "folder"
    folder.mkdir()
    unreadable = tmp_path / "unreadable.db"
    unreadable.write_text("")
    unreadable.chmod(0)  # refused by both, unless the tests run as root (who reads it)
    if annotation is Path:
        values = [*values, str(existing), str(folder), str(unreadable), existing]
    for argument in (False, True):
        param, ctx = _param(annotation, argument=argument)
        own = build_runtime_param(param.type_descriptor)
        mine = plain(parameter_info=param.type_descriptor.parameter_info, annotation=annotation)
        for value in values:
            theirs = _outcome(own, value, param, ctx)
            ours = _outcome(mine, value, param, ctx)
            assert ours == theirs, (annotation, value)
        assert mine.coerce(None, param=param, ctx=ctx) == own.coerce(None, param=param, ctx=ctx)


def test_every_plain_parameter_of_the_cli_is_given_the_plain_coercion() -> None:
    """After a command is looked up, its str, bool and Path parameters (and --help) read
    without pydantic; numbers and choices keep Typer's own."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    seen: dict[type, int] = {}

    def walk(command: Any) -> None:
        for param in [*command.params, command.get_help_option(ctx)]:
            if not isinstance(param, _TyperParameter):
                continue
            kind = type(param._runtime_param)
            seen[kind] = seen.get(kind, 0) + 1
            annotation = param.type_descriptor.annotation
            if annotation in (str, bool, Path) and not param.multiple:
                assert kind in (PlainText, PlainFlag, PlainPath), (command.name, param.name)
            else:
                assert param._runtime_param is None, (command.name, param.name)
        for sub in (getattr(command, "commands", None) or {}).values():
            walk(sub)

    walk(root)
    # --db is text (a file's path or a postgresql:// URL), so few Path parameters are left
    assert seen[PlainText] > 30 and seen[PlainPath] >= 3 and seen[PlainFlag] > 30
