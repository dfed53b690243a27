"""Refusals on the command line: one line on stderr and an exit code, never a box.

A command's own refusal (bad input, a refused file) and a command line Typer cannot parse
(a missing option, an unknown command) read the same: `Title: what is wrong.`, exit 2.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from kinesio_tui.errors import DatabaseBusy, KinesioError
from kinesio_tui.i18n import _
from kinesio_tui.say import say_error


def fail(error: KinesioError) -> typer.Exit:
    """Say `error` in one line; exit 2 (bad input, a refused file), or 1 when another
    program kept the database locked: the command was right, try it again later."""
    say_error(error)
    return typer.Exit(code=1 if isinstance(error, DatabaseBusy) else 2)


def _shows_help(error: typer.TyperException) -> bool:
    """`kinesio patients` alone: Typer has printed the group's help for this 'error' already.

    Typer tells this case by the class name too (its rich_utils), the class being private.
    """
    return type(error).__name__ == "NoArgsIsHelpError"


def usage_refusal(error: typer.TyperException) -> typer.Exit:
    """A command line that cannot be parsed, in one line naming the help to read."""
    ctx = getattr(error, "ctx", None)
    command = ctx.command_path if ctx is not None else "kinesio"
    message = error.format_message().rstrip(".")
    return fail(
        KinesioError(
            _("Invalid command line"),
            _("{message}. See `{command} --help`.", message=message, command=command),
        )
    )


class OneLineUsageErrors(TyperGroup):
    """The root `kinesio` group: a usage error anywhere below it becomes one line, exit 2."""

    # Pass-through signatures: the parameters are click's Context, private to Typer.
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)  # the root's own options
        except typer.TyperException as error:
            if _shows_help(error) or error.exit_code != 2:
                raise
            raise usage_refusal(error) from None

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().invoke(*args, **kwargs)  # finds the command, parses its line, runs it
        except typer.TyperException as error:
            if _shows_help(error) or error.exit_code != 2:
                raise
            raise usage_refusal(error) from None
