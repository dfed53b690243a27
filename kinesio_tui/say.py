"""One line on stderr: how every part of the `kinesio` command refuses or reports."""

from __future__ import annotations

import sys

from kinesio_tui.errors import KinesioError


def say_error(error: KinesioError) -> None:
    """One clinician-readable line on stderr (red on a terminal), the same from every path."""
    from kinesio_tui.plain_text import shown

    # A message may quote what was typed: never a control, and a newline makes no second line.
    line = shown(f"{error.title}: {error.message}").replace("\n", " ")
    if sys.stderr.isatty():
        line = f"\x1b[31m{line}\x1b[0m"
    print(line, file=sys.stderr)
