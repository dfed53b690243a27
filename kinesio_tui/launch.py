"""The `kinesio` command's front door.

Plain `kinesio [--db FILE] [--therapist NAME]` opens the workstation straight away, without
loading the command-line toolkit: importing Typer (and the click it carries) costs ~60 ms
and ~5 MiB, a sixth of the start-up budget of issue 7, for parsing two options. Any other
command line (a command, --help, a typo) goes to the full CLI in `cli.py`, which parses and
reports exactly as before. Both paths open the workstation through `open_workstation`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kinesio_tui.errors import KinesioError

#: The options of the bare `kinesio` command (cli.main_callback), and their variables.
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


def open_workstation(path: Path, *, actor: str | None, demo: bool = False) -> int:
    """Open the TUI on `path`; returns the app's exit code (1 after a crash report).

    A file it must refuse (newer, not ours) raises KinesioError before the UI starts. The
    day's automatic backup is taken behind the first frame (not for the demo clinic).
    """
    from kinesio_tui.app import build_app

    tui = build_app(path, actor=actor, demo=demo, daily_backup=not demo)  # opens or migrates
    tui.run()
    return tui.return_code or 0


def say_error(error: KinesioError) -> None:
    """One clinician-readable line on stderr (red on a terminal), as the full CLI prints it."""
    from kinesio_tui.plain_text import shown

    line = shown(f"{error.title}: {error.message}")  # a message may quote what was typed
    if sys.stderr.isatty():
        line = f"\x1b[31m{line}\x1b[0m"
    print(line, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: the workstation directly, or the full CLI."""
    options = workstation_options(sys.argv[1:] if argv is None else argv)
    if options is None:
        from kinesio_tui.cli import main as cli_main

        cli_main()
        return
    try:
        from kinesio_tui.domain.validate import therapist_name
        from kinesio_tui.locations import resolve_db_path

        actor = therapist_name(options.get("--therapist"))  # before the file is touched
        db = options.get("--db")
        path = resolve_db_path(Path(db) if db else None)
        code = open_workstation(path, actor=actor)
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
