"""The screen as a person reads it: plain text, line by line, with colour stripped."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.app import App


def screen_lines(app: App[Any]) -> list[str]:
    """Every row of the terminal as text, as it would look with no colour at all."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False).splitlines()


def screen_text(app: App[Any]) -> str:
    """The whole screen as one string, runs of spaces and line ends folded to one space."""
    return " ".join(" ".join(screen_lines(app)).split())
