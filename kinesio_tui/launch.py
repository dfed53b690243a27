"""The `kinesio` command's front door.

Plain `kinesio [--db FILE] [--therapist NAME]` opens the workstation straight away, without
loading the command-line toolkit: importing Typer (and the click it carries) costs ~60 ms
and ~5 MiB, a sixth of the start-up budget, for parsing two options. Any other
command line (a command, --help, a typo) goes to the full CLI, the `cli` package, which
parses and reports exactly as before. Both paths open the workstation through
`workstation.open_workstation` and refuse through `say.say_error`; the CLI never imports
this module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from kinesio_tui.errors import KinesioError
from kinesio_tui.say import say_error
from kinesio_tui.workstation import open_workstation

#: The options of the bare `kinesio` command (cli.command.root), and their variables.
WORKSTATION_OPTIONS = {"--db": "KINESIO_DB", "--therapist": "KINESIO_THERAPIST"}


def workstation_options(args: Sequence[str]) -> dict[str, str] | None:
    """`--db`/`--therapist` values when `args` only open the workstation, else None.

    None hands the command line to the full CLI: a command, a flag, a missing or empty value.
    The environment fills what the line leaves out, as in the full CLI (an empty variable
    counts as unset); the last of a repeated option wins, as in the full CLI.
    """
    given: dict[str, str] = {}
    rest = list(args)
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if name not in WORKSTATION_OPTIONS:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if not value or value.startswith("-"):
            return None
        given[name] = value
    for name, variable in WORKSTATION_OPTIONS.items():
        if name not in given and os.environ.get(variable):
            given[name] = os.environ[variable]
    return given


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: the workstation directly, or the full CLI."""
    options = workstation_options(sys.argv[1:] if argv is None else argv)
    if options is None:
        from kinesio_tui.cli import main as cli_main

        cli_main()
        return
    try:
        from kinesio_tui.data.engine import resolve_target
        from kinesio_tui.domain.validate import therapist_name

        actor = therapist_name(options.get("--therapist"))  # before the file is touched
        # a str, never a Path: Path("postgresql://h/db") collapses the URL's //
        target = resolve_target(options.get("--db"))
        code = open_workstation(target, actor=actor)
    except KinesioError as error:
        say_error(error)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # unexpected: a scrubbed report, one calm line, exit 1
        from kinesio_tui.crash import report_and_exit

        report_and_exit(error)
    sys.exit(code)


if __name__ == "__main__":
    main()
