"""The `kinesio` command line (Typer): one sub-app per module, joined in `command.py`.

Thin: parses arguments, calls the domain, prints, refuses in one line with exit 2.
`launch.py` opens the workstation without this package; it hands every other command line
here. A command imports what only it needs (the domain, the maintenance code, Rich's table
and progress bar, the exports) inside its function: loading them all for every command
doubles this package's import (measured: ~0.4 s to ~1.1 s at the fastest of ten runs
on the busy 2-core machine; Typer alone is most of the first figure). Textual and Jinja2
load only for the workstation and the exports.
"""

from kinesio_tui.cli.command import app, main

__all__ = ["app", "main"]
