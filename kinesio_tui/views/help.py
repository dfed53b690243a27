"""The `?` help screen (every key that works on the screen beneath) and a yes/no dialog."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

from kinesio_tui.i18n import _


def bindings_table(screen: Screen[object]) -> Table:
    """The keys active on `screen`, grouped into this screen's and the app's."""
    app = screen.app
    here: list[tuple[str, str, bool]] = []
    everywhere: list[tuple[str, str, bool]] = [
        (
            app.get_key_display(Binding("ctrl+p", "")),
            _("Command palette: open a patient, export, theme"),
            True,
        )
    ]
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or (binding.action, binding.description) in seen:
            continue
        seen.add((binding.action, binding.description))
        if binding.action == "command_palette":
            continue
        row = (app.get_key_display(binding), binding.tooltip or binding.description, active.enabled)
        (everywhere if isinstance(active.node, App) else here).append(row)
    table = Table(box=None, padding=(0, 2), show_header=False, expand=False)
    table.add_column(style="bold", no_wrap=True, min_width=8)
    table.add_column()
    for title, rows in ((_("On this screen"), here), (_("Everywhere"), everywhere)):
        if not rows:
            continue
        table.add_row(Text(title, style="bold underline"), "")
        for keys, text, enabled in rows:
            table.add_row(keys, Text(text, style="" if enabled else "dim"))
        table.add_row("", "")
    table.add_row(
        "", Text(_("Escape goes back, q quits. Everything is saved as you go."), style="italic")
    )
    return table


class HelpScreen(ModalScreen[None]):
    """Lists every binding of the screen it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", _("Close"), priority=True),
    ]

    def __init__(self, beneath: Screen[object]) -> None:
        super().__init__()
        self.beneath = beneath

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = _("Keys: {screen}", screen=self._screen_name())
            yield Static(bindings_table(self.beneath), id="help-keys")

    def _screen_name(self) -> str:
        doc = (type(self.beneath).__doc__ or "").strip().splitlines()
        return doc[0] if doc else type(self.beneath).__name__

    def action_close(self) -> None:
        """Back to where help was opened."""
        self.dismiss()


class Confirm(ModalScreen[bool]):
    """A yes/no question; y / n / Escape answer from the keyboard."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", _("Yes")),
        Binding("n,escape", "answer(False)", _("No")),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(_("Yes (y)"), id="yes", variant="warning", compact=True)
                yield Button(_("No (n)"), id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """Answer the question."""
        self.dismiss(yes)
