"""The baseline for start-up and memory: a bare Textual app that shows one line.

Enter pushes a screen of one line: the baseline for opening a screen in a pty.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

MARKER = "bare app ready"
SCREEN_MARKER = "one-line screen"


class OneLine(Screen[None]):
    BINDINGS = [("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Static(SCREEN_MARKER)


class BareApp(App[None]):
    BINDINGS = [("enter", "one_line", "Open")]

    def compose(self) -> ComposeResult:
        yield Static(MARKER)

    def action_one_line(self) -> None:
        self.push_screen(OneLine())


if __name__ == "__main__":
    BareApp().run()
