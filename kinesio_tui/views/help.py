"""The `?` help screen: every key that works on the screen beneath."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from kinesio_tui.i18n import _


def bindings_table(screen: Screen[object]) -> Table:
    """The keys active on `screen`: this screen's, the app's, then moving around."""
    app = screen.app
    groups: dict[str, dict[tuple[str, str], list[str]]] = {"here": {}, "app": {}, "move": {}}
    enabled: dict[tuple[str, str], bool] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.action == "command_palette":
            continue
        if isinstance(active.node, App):
            group = "app"
        elif binding.action.startswith(("app.", "screen.")):
            group = "move"  # Textual's own focus and copy keys
        elif active.node is screen or binding.show:
            group = "here"
        else:
            group = "move"
        text = binding.tooltip or binding.description
        key = (binding.action, text)
        groups[group].setdefault(key, []).append(app.get_key_display(binding))
        enabled[key] = enabled.get(key, False) or active.enabled
    palette = ("command_palette", _("Command palette: open a patient, export, switch theme"))
    groups["app"][palette] = [app.get_key_display(Binding("ctrl+p", ""))]
    table = Table(box=None, padding=(0, 2), show_header=False, expand=False)
    table.add_column(style="bold", no_wrap=True, min_width=8)
    table.add_column()
    titles = {"here": _("On this screen"), "app": _("Everywhere"), "move": _("Moving around")}
    for group, rows in groups.items():
        if not rows:
            continue
        table.add_row(Text(titles[group], style="bold underline"), "")
        for (action, text), keys in rows.items():
            style = "" if enabled.get((action, text), True) else "dim"
            table.add_row(", ".join(keys), Text(text, style=style))
        table.add_row("", "")
    table.add_row(
        "",
        Text(_("Escape goes back, Ctrl+Q quits. Everything is saved as you go."), style="italic"),
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
        title = getattr(self.beneath, "help_title", None)
        return str(title) if title else type(self.beneath).__name__.removesuffix("Screen")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()  # arrows scroll a long list

    def action_close(self) -> None:
        """Back to where help was opened."""
        self.dismiss()
