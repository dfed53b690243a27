"""Plain text and file-path parameters read as Typer reads them, without pydantic.

Typer 0.29 coerces every parameter through a pydantic `TypeAdapter` built on first use.
For a plain `str` that adapter returns `str(value)`, for a `bool` flag the flag's value, for
a `Path` Typer's own path checks (`coerce_cli_path`) on `Path(value)`. Importing pydantic and building the adapters
was ~75 ms of `kinesio patients show 1`'s ~230 ms (the import-only baseline,
`import typer, jinja2, sqlite_utils`, imports no pydantic), and every command has a `--db`
and most a patient argument. `give_plain_coercion` sets those three kinds of parameter to
the same coercion done directly; any other parameter (numbers, choices, lists, a path with
`allow_dash`) and any value that is not plain text keeps Typer's own. Typer is pinned
(constraints.txt); tests/test_cli_lazy_imports.py checks both coercions agree value for
value, so an upgrade that changes Typer's reading fails there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer._click import Context
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import _TyperParameter


@dataclass(frozen=True)
class _TyperOwn(RuntimeParam):
    """Typer's own coercion for what is not plain text (built, with pydantic, only then)."""

    def _typers(self, value: Any, param: Any, ctx: Any) -> Any:
        own = build_runtime_param(param.type_descriptor)
        return own._coerce_value(value, param=param, ctx=ctx)


@dataclass(frozen=True)
class PlainText(_TyperOwn):
    """A `str` parameter: the text as typed (Typer's adapter: `str(value)`)."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is str:
            return value
        return self._typers(value, param, ctx)


@dataclass(frozen=True)
class PlainFlag(_TyperOwn):
    """A `bool` flag (`--help` among them): the flag's value (Typer's adapter: itself)."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is bool:
            return value
        return self._typers(value, param, ctx)


@dataclass(frozen=True)
class PlainPath(_TyperOwn):
    """A `Path` parameter: `Path(value)` through Typer's own path checks."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if type(value) is str:
            value = Path(value)
        if isinstance(value, Path):
            try:
                return coerce_cli_path(
                    value, self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
            except ValueError:  # a NUL in it: Typer's adapter words that refusal
                pass
        return self._typers(value, param, ctx)


def _plain(param: _TyperParameter) -> RuntimeParam | None:
    """The plain coercion for `param`, or None when Typer's own is needed."""
    if param.multiple or param.nargs != 1:
        return None
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None or descriptor.is_choice:
        return None
    if descriptor.annotation is str:
        return PlainText(parameter_info=info, annotation=str)
    if descriptor.annotation is bool:
        return PlainFlag(parameter_info=info, annotation=bool)
    if descriptor.annotation is Path and info.path_type is None and not info.allow_dash:
        return PlainPath(parameter_info=info, annotation=Path)
    return None


def give_plain_coercion(command: Any, *, below: bool = True) -> None:
    """Set the plain coercion on `command`'s own parameters and (`below`) those of its
    sub-commands (a click command built by Typer; typed Any: Typer's click is private)."""
    # click makes `--help` on first use (with the context's option names, ours the default)
    # and keeps it: make it now, so that it is plain too.
    help_option = command.get_help_option(Context(command))
    for param in [*command.params, help_option]:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            param._runtime_param = _plain(param)
    if below:
        for sub in (getattr(command, "commands", None) or {}).values():
            give_plain_coercion(sub)
